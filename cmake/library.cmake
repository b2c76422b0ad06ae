# albsim_library(NAME DIR): one static library from DIR/src/*.cpp with DIR/include public.
# A folder whose sources are not written yet still configures (an empty translation unit).
function(albsim_library name dir)
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/src/*.cpp)
  if(NOT sources)
    set(sources ${CMAKE_BINARY_DIR}/${name}_empty.cpp)
    file(WRITE ${sources} "// ${name}: no sources yet\n")
  endif()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${dir}/include)
  target_link_libraries(${name} PRIVATE albsim_warnings)
endfunction()
