# Instruction-set options: each vector source file is compiled with exactly the flags of its variant.
# The names match enum g4j_isa in native/include/gguf4j.h.

set(G4J_ISA_FLAGS_AVX2 -mavx -mavx2 -mfma -mf16c)
set(G4J_ISA_FLAGS_AVX512 -mavx -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl)
set(G4J_ISA_FLAGS_AVX512VNNI ${G4J_ISA_FLAGS_AVX512} -mavx512vnni)

# g4j_isa_sources(<ISA> file...): compile the files with that ISA's flags and nothing else.
function(g4j_isa_sources isa)
  if(NOT DEFINED G4J_ISA_FLAGS_${isa})
    message(FATAL_ERROR "unknown ISA ${isa}")
  endif()
  string(REPLACE ";" " " flags "${G4J_ISA_FLAGS_${isa}}")
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_FLAGS "${flags}")
endfunction()
