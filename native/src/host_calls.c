/* Redirection of the host program's calls to the C library: see host_calls.h. */
#include "host_calls.h"

#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_CALLS_JUMP_SLOT R_X86_64_JUMP_SLOT
#define HOST_CALLS_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define HOST_CALLS_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define HOST_CALLS_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "host_calls.c knows the GOT relocations of x86_64 and aarch64 only"
#endif

struct host_calls_redirection {
  const struct host_call* calls;
  size_t count;
  int patched;
};

/* A link-time address of the dynamic section, relocated unless the loader did so already. */
static uintptr_t host_calls_address(const struct dl_phdr_info* info, uintptr_t ptr)
{
  return ptr < info->dlpi_addr ? info->dlpi_addr + ptr : ptr;
}

/* Points one GOT slot at target; a slot inside PT_GNU_RELRO is made writable for the write. */
static int host_calls_patch_slot(const struct dl_phdr_info* info, uintptr_t slot, void* target)
{
  int relro = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)* p = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + p->p_vaddr;
    if (p->p_type == PT_GNU_RELRO && slot >= start && slot < start + p->p_memsz) {
      relro = 1;
    }
  }
  uintptr_t page = slot & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
  size_t length = slot + sizeof(void*) - page;
  if (relro && mprotect((void*)page, length, PROT_READ | PROT_WRITE) != 0) {
    return 0;
  }
  atomic_store((_Atomic(void*)*)slot, target);
  if (relro) {
    mprotect((void*)page, length, PROT_READ);
  }
  return 1;
}

/* dl_iterate_phdr visits the host program first: redirect its calls, stop. */
static int host_calls_patch_program(struct dl_phdr_info* info, size_t size, void* data)
{
  (void)size;
  struct host_calls_redirection* redirect = data;
  const ElfW(Dyn)* dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dyn = (const ElfW(Dyn)*)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    }
  }
  if (dyn == NULL) {
    return 1;
  }
  const ElfW(Sym)* symbols = NULL;
  const char* strings = NULL;
  const ElfW(Rela)* tables[2] = {NULL, NULL};
  size_t sizes[2] = {0, 0};
  for (; dyn->d_tag != DT_NULL; dyn++) {
    switch (dyn->d_tag) {
      case DT_SYMTAB:
        symbols = (const ElfW(Sym)*)host_calls_address(info, dyn->d_un.d_ptr);
        break;
      case DT_STRTAB:
        strings = (const char*)host_calls_address(info, dyn->d_un.d_ptr);
        break;
      case DT_JMPREL:
        tables[0] = (const ElfW(Rela)*)host_calls_address(info, dyn->d_un.d_ptr);
        break;
      case DT_PLTRELSZ:
        sizes[0] = dyn->d_un.d_val;
        break;
      case DT_RELA:
        tables[1] = (const ElfW(Rela)*)host_calls_address(info, dyn->d_un.d_ptr);
        break;
      case DT_RELASZ:
        sizes[1] = dyn->d_un.d_val;
        break;
      default:
        break;
    }
  }
  if (symbols == NULL || strings == NULL) {
    return 1;
  }
  for (int t = 0; t < 2; t++) {
    for (size_t k = 0; tables[t] != NULL && k < sizes[t] / sizeof(ElfW(Rela)); k++) {
      const ElfW(Rela)* r = &tables[t][k];
      uint32_t type = ELF64_R_TYPE(r->r_info);
      if (type != HOST_CALLS_JUMP_SLOT && type != HOST_CALLS_GLOB_DAT) {
        continue;
      }
      const char* name = strings + symbols[ELF64_R_SYM(r->r_info)].st_name;
      for (size_t c = 0; c < redirect->count; c++) {
        if (strcmp(name, redirect->calls[c].name) == 0) {
          redirect->patched += host_calls_patch_slot(
              info, info->dlpi_addr + r->r_offset, redirect->calls[c].target);
        }
      }
    }
  }
  return 1;
}

int host_calls_redirect(const struct host_call* calls, size_t count)
{
  struct host_calls_redirection redirect = {calls, count, 0};
  dl_iterate_phdr(host_calls_patch_program, &redirect);
  return redirect.patched;
}
