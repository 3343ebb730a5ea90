# C++ generation for .proto files, ours and the Debian-packaged third-party ones.
#
# protobuf_generate() in CMake 3.25 computes wrong output paths for protos outside the source tree,
# so this is a plain add_custom_command per file.

set(SWITCHYARD_GOOGLEAPIS_DIR "/usr/share/gocode/src/github.com/gogo/googleapis"
    CACHE PATH "Root of google/api and google/rpc protos (golang-github-gogo-googleapis-dev)")
set(SWITCHYARD_GRPC_PROTO_DIR "/usr/share/grpc-proto"
    CACHE PATH "Root of grpc/health protos (grpc-proto)")

find_program(SWITCHYARD_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# switchyard_proto_sources(OUT_VAR ROOT FILE... [GRPC])
# Generates C++ for each FILE (relative to ROOT) into ${CMAKE_BINARY_DIR}/gen and appends the
# generated sources to OUT_VAR. With GRPC, service stubs are generated too.
function(switchyard_proto_sources out_var root)
  cmake_parse_arguments(arg "GRPC" "" "" ${ARGN})
  set(gen_dir "${CMAKE_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${gen_dir}")
  set(include_args
    -I "${root}"
    -I "${PROJECT_SOURCE_DIR}/proto"
    -I "${SWITCHYARD_GOOGLEAPIS_DIR}"
    -I "${SWITCHYARD_GRPC_PROTO_DIR}"
    -I "${Protobuf_INCLUDE_DIRS}")
  set(sources ${${out_var}})
  foreach(rel IN LISTS arg_UNPARSED_ARGUMENTS)
    string(REGEX REPLACE "\\.proto$" "" stem "${rel}")
    set(outputs "${gen_dir}/${stem}.pb.cc" "${gen_dir}/${stem}.pb.h")
    set(plugin_args)
    if(arg_GRPC)
      list(APPEND outputs "${gen_dir}/${stem}.grpc.pb.cc" "${gen_dir}/${stem}.grpc.pb.h")
      set(plugin_args "--grpc_out=${gen_dir}"
                      "--plugin=protoc-gen-grpc=${SWITCHYARD_GRPC_CPP_PLUGIN}")
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc ${include_args} "--cpp_out=${gen_dir}" ${plugin_args}
              "${root}/${rel}"
      DEPENDS "${root}/${rel}" protobuf::protoc
      COMMENT "protoc ${rel}"
      VERBATIM)
    list(FILTER outputs INCLUDE REGEX "\\.cc$")
    list(APPEND sources ${outputs})
  endforeach()
  set(${out_var} ${sources} PARENT_SCOPE)
endfunction()
