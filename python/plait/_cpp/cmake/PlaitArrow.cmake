# plait_find_arrow(<python>): the imported target plait::arrow, Arrow C++ as pyarrow's
# wheel ships it (headers and libarrow.so.<so_version>, which has no unversioned
# symlink), found through the given Python interpreter. Sets PLAIT_ARROW_FOUND,
# PLAIT_ARROW_LIBRARY_DIR, PLAIT_ARROW_VERSION (pyarrow's version) and
# PLAIT_ARROW_SO_VERSION (libarrow's) in the caller's scope.
#
# Linking pyarrow's own libarrow, rather than a system Arrow, means a plait library loaded
# into a worker shares the one libarrow that pyarrow already loaded there, so tables
# cross between Python and C++ with no ABI or version mismatch.
function(plait_find_arrow python)
  set(PLAIT_ARROW_FOUND FALSE PARENT_SCOPE)
  if(TARGET plait::arrow)
    get_target_property(_dir plait::arrow PLAIT_LIBRARY_DIR)
    get_target_property(_version plait::arrow PLAIT_PYARROW_VERSION)
    get_target_property(_so plait::arrow PLAIT_SO_VERSION)
    set(PLAIT_ARROW_FOUND TRUE PARENT_SCOPE)
    set(PLAIT_ARROW_LIBRARY_DIR "${_dir}" PARENT_SCOPE)
    set(PLAIT_ARROW_VERSION "${_version}" PARENT_SCOPE)
    set(PLAIT_ARROW_SO_VERSION "${_so}" PARENT_SCOPE)
    return()
  endif()
  execute_process(
    COMMAND "${python}" -c
      "import pyarrow as pa; print(pa.get_include()); print(pa.get_library_dirs()[0]); print(pa.cpp_build_info.so_version); print(pa.__version__)"
    OUTPUT_VARIABLE _out RESULT_VARIABLE _rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(STATUS "plait: pyarrow not importable by ${python}; building without Arrow")
    return()
  endif()
  string(REPLACE "\n" ";" _lines "${_out}")
  list(GET _lines 0 _include)
  list(GET _lines 1 _libdir)
  list(GET _lines 2 _so)
  list(GET _lines 3 _version)
  set(_lib "${_libdir}/libarrow.so.${_so}")
  if(NOT EXISTS "${_lib}")
    message(STATUS "plait: ${_lib} not found; building without Arrow")
    return()
  endif()
  add_library(plait::arrow SHARED IMPORTED GLOBAL)
  set_target_properties(plait::arrow PROPERTIES
    IMPORTED_LOCATION "${_lib}"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${_include}"
    INTERFACE_COMPILE_DEFINITIONS "PLAIT_WITH_ARROW"
    # Arrow's headers use C++20 (std::span).
    INTERFACE_COMPILE_FEATURES cxx_std_20
    PLAIT_LIBRARY_DIR "${_libdir}"
    PLAIT_PYARROW_VERSION "${_version}"
    PLAIT_SO_VERSION "${_so}")
  message(STATUS "plait: Arrow C++ from pyarrow ${_version} (${_lib})")
  set(PLAIT_ARROW_FOUND TRUE PARENT_SCOPE)
  set(PLAIT_ARROW_LIBRARY_DIR "${_libdir}" PARENT_SCOPE)
  set(PLAIT_ARROW_VERSION "${_version}" PARENT_SCOPE)
  set(PLAIT_ARROW_SO_VERSION "${_so}" PARENT_SCOPE)
endfunction()
