#!/usr/bin/env bash
# Proves that the header check bites: each case below breaks one declaration in a scratch copy of
# include/triton_api.h (under a temporary folder, never in the tree) and expects gen_check.py or
# the compiler to refuse it with the error shown; the unbroken copy must pass.
# Usage: selftest.sh OUR_HEADER TRITON_INCLUDE [CC [CXX]]   (CXX empty: C pass only)
set -uo pipefail
header=$1 triton=$2 cc=${3:-cc} cxx=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
flags=(-Wall -Wextra -Werror -pedantic -I"$triton")

# check LANG FILE: 0 if the generated check compiles for LANG (c or c++); errors in $scratch/err.
check() {
  local compiler=$cc std=(-std=c11 -Wstrict-prototypes)
  [[ $1 == c++ ]] && compiler=$cxx std=(-std=c++17)
  "${PYTHON:-python3}" "$here/gen_check.py" "$2" "$triton" "$scratch/check.c" >/dev/null 2>"$scratch/err" &&
    "$compiler" -x "$1" "${std[@]}" "${flags[@]}" -fsyntax-only "$scratch/check.c" 2>"$scratch/err"
}

failures=0
# case NAME LANG SED-SCRIPT ERROR-PATTERN: the copy edited by SED-SCRIPT must fail with ERROR-PATTERN.
case_() {
  local name=$1 lang=$2 script=$3 pattern=$4 copy=$scratch/triton_api.h
  sed -e "$script" "$header" >"$copy"
  if cmp -s "$copy" "$header"; then
    echo "selftest: $name: the edit changed nothing (update the case to the header)"; failures=$((failures + 1))
  elif check "$lang" "$copy"; then
    echo "selftest: $name: NOT detected"; failures=$((failures + 1))
  elif ! grep -qE "$pattern" "$scratch/err"; then
    echo "selftest: $name: failed, but not with /$pattern/:"; sed 's/^/  /' "$scratch/err" | head -5
    failures=$((failures + 1))
  else
    echo "selftest: $name: detected: $(grep -m1 -E "$pattern" "$scratch/err" | sed 's/^.*triton_api.h://')"
  fi
}

check c "$header" || { echo "selftest: the unbroken header fails:"; cat "$scratch/err"; exit 1; }
case_ "parameter type" c 's/uint64_t\* buffer_byte_size, TRITONSERVER_MemoryType/uint32_t* buffer_byte_size, TRITONSERVER_MemoryType/' \
  "conflicting types for .TRITONBACKEND_InputBuffer"
case_ "return type" c 's/^const char\* TRITONSERVER_ErrorMessage(/char* TRITONSERVER_ErrorMessage(/' \
  "conflicting types for .TRITONSERVER_ErrorMessage"
case_ "parameter count" c 's/TRITONBACKEND_BackendSetState(TRITONBACKEND_Backend\* backend, void\* state)/TRITONBACKEND_BackendSetState(TRITONBACKEND_Backend* backend)/' \
  "conflicting types for .TRITONBACKEND_BackendSetState"
case_ "unprototyped parameters" c 's/TRITONBACKEND_ApiVersion(uint32_t\* major, uint32_t\* minor)/TRITONBACKEND_ApiVersion()/' \
  "function declaration isn.t a prototype"
case_ "invented function" c 's/TRITONBACKEND_ModelInstanceName(/TRITONBACKEND_ModelInstanceNames(/' \
  "TRITONBACKEND_ModelInstanceNames is not declared in tritonbackend.h"
case_ "invented function, no header named" c 's/^#define TRITONBACKEND_API_VERSION_MINOR 19$/&\nvoid TRITONBACKEND_Nothing(void);/' \
  "TRITONBACKEND_Nothing. undeclared"
case_ "enum value" c 's/TRITONSERVER_TYPE_BF16 = 14/TRITONSERVER_TYPE_BF16 = 15/' \
  "TRITONSERVER_TYPE_BF16: our value differs"
case_ "implicit enum value" c 's/  TRITONSERVER_TYPE_UINT8 = 2,/  TRITONSERVER_TYPE_UINT8 = 2, TRITONSERVER_TYPE_FP8,/' \
  "TRITONSERVER_TYPE_FP8. undeclared|TRITONSERVER_TYPE_UINT16: our value differs"
case_ "enum tag" c 's/typedef enum TRITONSERVER_memorytype_enum {/typedef enum TRITONSERVER_memtype_enum {/' \
  "conflicting types for .TRITONSERVER_MemoryType"
case_ "struct typedef" c 's/^typedef struct TRITONBACKEND_Input TRITONBACKEND_Input;/typedef struct TRITONBACKEND_Output TRITONBACKEND_Input;/' \
  "conflicting types for .TRITONBACKEND_Input"
case_ "invented type" c 's/^typedef struct TRITONBACKEND_Input TRITONBACKEND_Input;/typedef struct TRITONBACKEND_Inputs TRITONBACKEND_Inputs;/' \
  "unknown type name .TRITONBACKEND_Inputs"
case_ "constant" c 's/#define TRITONBACKEND_API_VERSION_MINOR 19/#define TRITONBACKEND_API_VERSION_MINOR 20/' \
  "TRITONBACKEND_API_VERSION_MINOR: our value differs"
case_ "version in a comment" c 's/TRITONSERVER_API_VERSION 1.34/TRITONSERVER_API_VERSION 1.33/' \
  "the comment says TRITONSERVER API 1.33"
case_ "header named in a comment" c 's|/\* ---- Backend (tritonbackend.h) ---- \*/|/* ---- Backend (tritonserver.h) ---- */|' \
  "TRITONBACKEND_ApiVersion is not declared in tritonserver.h"
case_ "unrecognised declaration" c 's/^#endif \/\* JAVA_ONNXRUNTIME_TRITON_API_H \*\//extern int triton_api_level;\n&/' \
  "unrecognised declaration"
if [[ -n $cxx ]]; then
  check c++ "$header" || { echo "selftest: the unbroken header fails in C++:"; cat "$scratch/err"; exit 1; }
  # C calls an enum compatible with its integer type; C++ (extern "C" linkage) does not.
  case_ "enum parameter as integer (C++ pass)" c++ 's/int64_t\* memory_type_id);/int64_t* memory_type_id);/; 0,/TRITONSERVER_MemoryType\* memory_type,/s/TRITONSERVER_MemoryType\* memory_type,/uint32_t* memory_type,/' \
    "conflicting declaration of C function"
fi
[[ $failures == 0 ]] || { echo "selftest: $failures case(s) not detected as expected"; exit 1; }
