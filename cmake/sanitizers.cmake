# -DALBSIM_SANITIZE=ON builds everything with ASan + UBSan; -DALBSIM_SANITIZE=thread with
# ThreadSanitizer instead (scripts/tsan.sh; the two cannot be combined).
if(ALBSIM_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(ALBSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
