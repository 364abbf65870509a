/* The C ABI between plait's host (the C++ worker's Python process, through the
 * extension plait._native) and a user library built with the plait C++ SDK.
 *
 * Only this header crosses the boundary: plain C structs of pointers and sizes, values in
 * the object format (docs/object-format.md). A user library therefore never links against
 * Python or against the host's C++ runtime; it carries its own copy of the codec.
 *
 * Loading (docs/cross-language.md): the host dlopen()s the library and calls its exported
 *
 *     const plait_module_t* plait_module_init(const plait_host_api_t* host);
 *
 * once. `host` stays valid while the library is loaded (it may be NULL: the library can
 * be listed, but calls back into the runtime fail with a clear error). The returned table
 * lists the registered functions and actor classes; it stays valid while the library is
 * loaded. The SDK's registration macros (plait/registry.h) write plait_module_init.
 *
 * Calls: every invoke/create entry takes a plait_call_t and returns PLAIT_OK, or
 * PLAIT_ERROR after calling call->set_error exactly once. Return values are written into
 * memory the host allocates (call->alloc_return), so an encoded result is copied once.
 *
 * Threads: the host may call entries from any thread, concurrently for functions and
 * serially for one actor instance. Host API functions may be called from any thread.
 */
#ifndef PLAIT_ABI_H_
#define PLAIT_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structs below; the host refuses a library
 * whose table carries another version. */
#define PLAIT_ABI_VERSION 2 /* 2: plait_call_t.set_error_cause */

#define PLAIT_OK 0
#define PLAIT_ERROR 1

/* A borrowed byte range. */
typedef struct plait_bytes_t {
  const uint8_t* data;
  size_t size;
} plait_bytes_t;

/* An argument: one encoded object, valid until the call returns. `owner` (may be NULL)
 * is the host's handle for it: host->retain_arg(owner) keeps the bytes valid after the
 * call returns, until a matching host->release_arg(owner). The SDK does this when a
 * decoded view (a tensor, an Arrow table) outlives the call, e.g. in actor state. */
typedef struct plait_arg_t {
  const uint8_t* data;
  size_t size;
  void* owner;
} plait_arg_t;

/* Bytes the host hands to the SDK (an object from Get, an encoded ref, an error). The
 * SDK calls host->release(host->ctx, handle) exactly once when done with them; a NULL
 * handle needs no release. */
typedef struct plait_owned_t {
  const uint8_t* data;
  size_t size;
  void* handle;
} plait_owned_t;

/* One call of a registered function, constructor or method. */
typedef struct plait_call_t {
  const plait_arg_t* args;
  size_t num_args;
  /* The last num_kwargs arguments are keyword arguments with these names (UTF-8). */
  const char* const* kwarg_names;
  size_t num_kwargs;
  /* How many encoded objects the call must produce (0 for constructors). */
  size_t num_returns;
  void* ctx; /* the host's, passed back to the two callbacks */
  /* Memory for return value `index` (0 <= index < num_returns) of exactly `size` bytes,
   * owned by the host; NULL when the host cannot provide it (the call then fails). */
  uint8_t* (*alloc_return)(void* ctx, size_t index, size_t size);
  /* Records why the call failed; the host copies the NUL-terminated UTF-8 strings.
   * type_name is the C++ exception type ("std::invalid_argument") or an SDK error type
   * ("plait::TypeError" for a wrong argument, "plait::NotFound" ...). */
  void (*set_error)(void* ctx, const char* type_name, const char* message, const char* stack);
  /* With set_error, when the call failed because user code let the failure of a call it
   * made propagate (a plait::Exception from Get): that failure, an encoded Error value
   * (object format ext 5), becomes the cause of the call's error, so an error keeps its
   * origin across languages. The host copies the bytes. May be NULL (the SDK then skips it). */
  void (*set_error_cause)(void* ctx, const uint8_t* error, size_t size);
} plait_call_t;

typedef struct plait_function_entry_t {
  const char* name;
  void* data; /* passed back to invoke */
  int (*invoke)(void* data, const plait_call_t* call);
} plait_function_entry_t;

typedef struct plait_method_entry_t {
  const char* name;
  void* data;
  int (*invoke)(void* data, void* instance, const plait_call_t* call);
} plait_method_entry_t;

typedef struct plait_class_entry_t {
  const char* name;
  void* data;
  /* Constructs an instance into *instance (num_returns is 0). */
  int (*create)(void* data, const plait_call_t* call, void** instance);
  void (*destroy)(void* data, void* instance);
  const plait_method_entry_t* methods;
  size_t num_methods;
} plait_class_entry_t;

typedef struct plait_module_t {
  uint32_t abi_version; /* PLAIT_ABI_VERSION */
  const char* sdk_version;
  const plait_function_entry_t* functions;
  size_t num_functions;
  const plait_class_entry_t* classes;
  size_t num_classes;
} plait_module_t;

/* --- the host API: calls from user code back into the hosting core worker ------------
 *
 * Mirrors plait._core.host_api.HostApi. Every function returns PLAIT_OK, or
 * PLAIT_ERROR with *error set to an encoded Error value (object format ext 5: type_name,
 * message, language "python", stack) that the SDK releases. Encoded refs are ObjectRef
 * values (ext 1); a list of refs is an encoded array of them. */

/* A task to submit or an actor to create. */
typedef struct plait_task_t {
  const char* language; /* "python", "java" or "cpp" */
  /* python: {module, qualname}; java: {class_name, method} ("<init>"-less class name
   * alone for actors); cpp: {registered name}. */
  const char* const* name_parts;
  size_t num_name_parts;
  const plait_bytes_t* args; /* encoded values, positional then keyword */
  size_t num_args;
  const char* const* kwarg_names;
  size_t num_kwargs;
  size_t num_returns; /* tasks only */
  /* An encoded map, or size 0 for defaults. Tasks: {resource name: amount} (str ->
   * float, e.g. {"CPU": 1.0}). Actors: {"name", "namespace", "lifetime",
   * "max_concurrency", "get_if_exists", "resources": {...}} (any subset). */
  plait_bytes_t options;
} plait_task_t;

typedef struct plait_host_api_t {
  uint32_t abi_version; /* PLAIT_ABI_VERSION */
  uint32_t reserved;
  void* ctx; /* first argument of every function below */

  /* Releases a plait_owned_t's handle. */
  void (*release)(void* ctx, void* handle);
  /* See plait_arg_t.owner. */
  void (*retain_arg)(void* ctx, void* owner);
  void (*release_arg)(void* ctx, void* owner);

  /* Stores an encoded value; *ref is the encoded ObjectRef of the new object. */
  int (*put)(void* ctx, plait_bytes_t value, plait_owned_t* ref, plait_owned_t* error);
  /* Waits for num_refs objects (refs: an encoded list of that many refs) and fills
   * values[0, num_refs) with their encoded bytes (views of the object store where
   * stored: zero copy). A failed task's object is an encoded Error value, not an error
   * of this call. timeout_s < 0 waits forever. */
  int (*get)(void* ctx, plait_bytes_t refs, size_t num_refs, double timeout_s,
             plait_owned_t* values, plait_owned_t* error);
  /* Submits a task; *refs is an encoded list of num_returns refs. */
  int (*submit_task)(void* ctx, const plait_task_t* task, plait_owned_t* refs,
                     plait_owned_t* error);
  /* Creates an actor; *handle is its encoded ActorHandle. */
  int (*create_actor)(void* ctx, const plait_task_t* actor_class, plait_owned_t* handle,
                      plait_owned_t* error);
  /* Calls a method; handle is an encoded ActorHandle; only args, kwarg_names and
   * num_returns of `call` are used. *refs is an encoded list of num_returns refs. */
  int (*call_actor)(void* ctx, plait_bytes_t handle, const char* method,
                    const plait_task_t* call, plait_owned_t* refs, plait_owned_t* error);
  /* A named actor's encoded ActorHandle (namespace "" is the caller's). */
  int (*get_actor)(void* ctx, const char* name, const char* ns, plait_owned_t* handle,
                   plait_owned_t* error);
  int (*kill_actor)(void* ctx, plait_bytes_t handle, plait_owned_t* error);

  /* Reference holds: the host keeps an object alive while foreign code holds a ref to
   * it. Every ref the host hands to the library carries one hold: the refs returned by
   * put, submit_task and call_actor, the refs inside values returned by get, and the refs
   * inside a call's arguments. hold_refs adds one hold per ref of an encoded list of refs;
   * release_refs drops one per ref. The SDK releases argument and get holds when the
   * call or the Get is over, and keeps one hold per live plait::ObjectRef. */
  void (*hold_refs)(void* ctx, plait_bytes_t refs);
  void (*release_refs)(void* ctx, plait_bytes_t refs);
} plait_host_api_t;

typedef const plait_module_t* (*plait_module_init_fn)(const plait_host_api_t* host);
#define PLAIT_MODULE_INIT_SYMBOL "plait_module_init"

/* Defined by the SDK (cpp/plait/sdk/registry.cc) in every user library. */
const plait_module_t* plait_module_init(const plait_host_api_t* host);

#ifdef __cplusplus
}
#endif

#endif /* PLAIT_ABI_H_ */
