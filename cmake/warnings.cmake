# Warnings for the project's own code only: an INTERFACE target linked by each albsim library.
add_library(albsim_warnings INTERFACE)
target_compile_options(albsim_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
