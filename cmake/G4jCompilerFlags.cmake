# Shared compiler settings for gguf4j's native libraries.
#
# Shipped builds are portable x86-64: never -march=native. Vector code lives in files of its own that get
# exactly their ISA flags (G4jIsa.cmake), and is only entered after a run-time cpuid check.

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# Plain IEEE arithmetic: no -ffast-math, no FP contraction in scalar code, so the scalar references
# compute exactly what their source says.
set(G4J_C_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Werror=implicit-function-declaration)
set(G4J_C_FLAGS -ffp-contract=off -fno-math-errno)

option(G4J_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer (tests only)" OFF)

function(g4j_target_defaults target)
  target_compile_options(${target} PRIVATE ${G4J_C_WARNINGS} ${G4J_C_FLAGS})
  if(G4J_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
