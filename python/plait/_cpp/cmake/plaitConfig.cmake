# find_package(plait CONFIG): the plait C++ SDK, for building libraries that plait's C++
# workers load.
#
#   find_package(plait CONFIG REQUIRED)   # plait_DIR: python -c "import plait._cpp as c; print(c.cmake_dir())"
#   plait_add_library(mylib SOURCES mylib.cc)
#
# plait_add_library(<name> SOURCES <files...> [NO_ARROW]) builds lib<name>.so, a module
# that exports only plait_module_init (the SDK's C ABI entry point, plait/abi.h) and links
# neither Python nor plait: the SDK (codec and registry) is compiled into it. Unless
# NO_ARROW is given or pyarrow cannot be imported, it links Arrow C++ from pyarrow's wheel
# (found through Python3_EXECUTABLE, else PLAIT_PYTHON, else the python3 on PATH) and
# defines PLAIT_WITH_ARROW, so functions may take and return arrow::Table and friends.
#
# Sets PLAIT_INCLUDE_DIRS and PLAIT_WITH_ARROW.
cmake_minimum_required(VERSION 3.15)
include_guard(GLOBAL)

get_filename_component(_plait_pkg "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)  # plait/_cpp
if(EXISTS "${_plait_pkg}/sdk/include/plait/plait.h")
  # Installed wheel: headers and sources were copied next to this file.
  set(PLAIT_INCLUDE_DIRS "${_plait_pkg}/sdk/include")
  set(_plait_src_root "${_plait_pkg}/sdk/src")
else()
  # Source checkout (editable install): python/plait/_cpp -> the repository's cpp/.
  get_filename_component(_plait_repo "${_plait_pkg}/../../.." ABSOLUTE)
  set(PLAIT_INCLUDE_DIRS "${_plait_repo}/cpp/include" "${_plait_repo}/cpp")
  set(_plait_src_root "${_plait_repo}/cpp")
endif()
if(NOT EXISTS "${_plait_src_root}/plait/codec/decoder.cc")
  set(plait_FOUND FALSE)
  set(plait_NOT_FOUND_MESSAGE "plait SDK sources not found under ${_plait_src_root}")
  return()
endif()

include("${CMAKE_CURRENT_LIST_DIR}/PlaitArrow.cmake")

if(Python3_EXECUTABLE)
  set(_plait_python "${Python3_EXECUTABLE}")
elseif(PLAIT_PYTHON)
  set(_plait_python "${PLAIT_PYTHON}")
else()
  find_program(_plait_python NAMES python3 python)
endif()
plait_find_arrow("${_plait_python}")
set(PLAIT_WITH_ARROW ${PLAIT_ARROW_FOUND})

set(_plait_sdk_sources
  "${_plait_src_root}/plait/codec/value.cc"
  "${_plait_src_root}/plait/codec/msgpack.cc"
  "${_plait_src_root}/plait/codec/utf8.cc"
  "${_plait_src_root}/plait/codec/encoder.cc"
  "${_plait_src_root}/plait/codec/decoder.cc"
  "${_plait_src_root}/plait/sdk/registry.cc"
  "${_plait_src_root}/plait/sdk/host.cc")

# The SDK, compiled once per project and linked into each library as object files (a
# static archive would drop plait_module_init, which no user code references).
function(_plait_sdk_target out with_arrow)
  if(with_arrow)
    set(_t plait_sdk_arrow)
  else()
    set(_t plait_sdk)
  endif()
  if(NOT TARGET ${_t})
    set(_srcs ${_plait_sdk_sources})
    if(with_arrow)
      list(APPEND _srcs "${_plait_src_root}/plait/codec/arrow.cc")
    endif()
    add_library(${_t} OBJECT ${_srcs})
    target_include_directories(${_t} PUBLIC ${PLAIT_INCLUDE_DIRS})
    target_compile_features(${_t} PUBLIC cxx_std_17)
    set_target_properties(${_t} PROPERTIES
      POSITION_INDEPENDENT_CODE ON
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    if(with_arrow)
      target_link_libraries(${_t} PUBLIC plait::arrow)
    endif()
  endif()
  set(${out} ${_t} PARENT_SCOPE)
endfunction()

function(plait_add_library name)
  cmake_parse_arguments(ARG "NO_ARROW" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "plait_add_library(${name}): SOURCES is required")
  endif()
  set(_with_arrow ${PLAIT_WITH_ARROW})
  if(ARG_NO_ARROW)
    set(_with_arrow FALSE)
  endif()
  _plait_sdk_target(_sdk ${_with_arrow})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${_sdk})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    POSITION_INDEPENDENT_CODE ON
    # Only plait_module_init is exported: two libraries loaded into one worker then
    # cannot bind to each other's copy of the SDK.
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(_with_arrow)
    # Find pyarrow's libarrow at run time without LD_LIBRARY_PATH (a worker that imported
    # pyarrow has it loaded already; same soname, so the same copy is used).
    set_property(TARGET ${name} APPEND PROPERTY BUILD_RPATH "${PLAIT_ARROW_LIBRARY_DIR}")
    set_property(TARGET ${name} APPEND PROPERTY INSTALL_RPATH "${PLAIT_ARROW_LIBRARY_DIR}")
  endif()
  if(NOT APPLE)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()

set(plait_FOUND TRUE)
