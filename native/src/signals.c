/* Signal chaining between the JVM and the host program: see signals.h. */
#include "signals.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SIGNALS_JUMP_SLOT R_X86_64_JUMP_SLOT
#define SIGNALS_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define SIGNALS_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define SIGNALS_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "signals.c knows the GOT relocations of x86_64 and aarch64 only"
#endif

/* The signals HotSpot handles itself in normal operation. */
static const int signals_jvm[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define SIGNALS_COUNT (sizeof(signals_jvm) / sizeof(signals_jvm[0]))

/* The host's action per signal, double-buffered: a fault on another thread reads the slot that
 * signals_current names while the host writes the other one. */
static struct sigaction signals_host[SIGNALS_COUNT][2];
static atomic_int signals_current[SIGNALS_COUNT];
/* 1 once the forwarder is installed: from then on the host's calls only record its handlers. */
static atomic_int signals_active;

static int signals_index(int sig)
{
  for (size_t i = 0; i < SIGNALS_COUNT; i++) {
    if (signals_jvm[i] == sig) {
      return (int)i;
    }
  }
  return -1;
}

static struct sigaction signals_host_action(int i)
{
  return signals_host[i][atomic_load(&signals_current[i])];
}

static void signals_set_host(int i, const struct sigaction* act)
{
  int next = 1 - atomic_load(&signals_current[i]);
  signals_host[i][next] = *act;
  atomic_store(&signals_current[i], next);
}

/* The handler the JVM chains to for a fault that is not its own: the host's handler, or with none
 * the default action (the process ends by that signal, as it would without a JVM). */
static void signals_forward(int sig, siginfo_t* info, void* context)
{
  int i = signals_index(sig);
  struct sigaction act = signals_host_action(i);
  if ((act.sa_flags & SA_SIGINFO) != 0 && act.sa_sigaction != NULL) {
    act.sa_sigaction(sig, info, context);
    return;
  }
  if ((act.sa_flags & SA_SIGINFO) == 0 && act.sa_handler != SIG_DFL && act.sa_handler != SIG_IGN) {
    act.sa_handler(sig);
    return;
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  raise(sig);
}

/* The host program's sigaction() and signal() once redirected: the JVM's four signals are only
 * recorded as the forwarder's target, every other signal goes to the C library. */
static int signals_host_sigaction(int sig, const struct sigaction* act, struct sigaction* old)
{
  int i = signals_index(sig);
  if (i < 0 || !atomic_load(&signals_active)) {
    return sigaction(sig, act, old);
  }
  if (old != NULL) {
    *old = signals_host_action(i);
  }
  if (act != NULL) {
    signals_set_host(i, act);
  }
  return 0;
}

static sighandler_t signals_host_signal(int sig, sighandler_t handler)
{
  int i = signals_index(sig);
  if (i < 0 || !atomic_load(&signals_active)) {
    return signal(sig, handler);
  }
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction old = signals_host_action(i), act;
  memset(&act, 0, sizeof(act));
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART; /* glibc's signal(): BSD semantics */
  signals_set_host(i, &act);
  return (old.sa_flags & SA_SIGINFO) != 0 ? (sighandler_t)(void (*)(void))old.sa_sigaction
                                          : old.sa_handler;
}

int signals_prepare(void)
{
#ifdef JAVA_ONNXRUNTIME_NO_SIGNAL_CHAINING
  /* A test build (tests/signals): the host's later handlers replace the JVM's. */
  return 0;
#endif
  /* libjsig.so in the process (preloaded): the JVM finds it and chains by itself. */
  if (dlsym(RTLD_DEFAULT, "JVM_begin_signal_setting") != NULL) {
    return 1;
  }
  for (size_t i = 0; i < SIGNALS_COUNT; i++) {
    struct sigaction current, forward;
    sigaction(signals_jvm[i], NULL, &current);
    signals_set_host((int)i, &current);
    memset(&forward, 0, sizeof(forward));
    forward.sa_sigaction = signals_forward;
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigaction(signals_jvm[i], &forward, NULL);
  }
  atomic_store(&signals_active, 1);
  return 0;
}

/* A link-time address of the dynamic section, relocated unless the loader did so already. */
static uintptr_t signals_address(const struct dl_phdr_info* info, uintptr_t ptr)
{
  return ptr < info->dlpi_addr ? info->dlpi_addr + ptr : ptr;
}

/* Points one GOT slot at target; a slot inside PT_GNU_RELRO is made writable for the write. */
static int signals_patch_slot(const struct dl_phdr_info* info, uintptr_t slot, void* target)
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

/* dl_iterate_phdr visits the host program first: redirect its signal() and sigaction(), stop. */
static int signals_patch_program(struct dl_phdr_info* info, size_t size, void* data)
{
  (void)size;
  int* patched = data;
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
        symbols = (const ElfW(Sym)*)signals_address(info, dyn->d_un.d_ptr);
        break;
      case DT_STRTAB:
        strings = (const char*)signals_address(info, dyn->d_un.d_ptr);
        break;
      case DT_JMPREL:
        tables[0] = (const ElfW(Rela)*)signals_address(info, dyn->d_un.d_ptr);
        break;
      case DT_PLTRELSZ:
        sizes[0] = dyn->d_un.d_val;
        break;
      case DT_RELA:
        tables[1] = (const ElfW(Rela)*)signals_address(info, dyn->d_un.d_ptr);
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
      if (type != SIGNALS_JUMP_SLOT && type != SIGNALS_GLOB_DAT) {
        continue;
      }
      const char* name = strings + symbols[ELF64_R_SYM(r->r_info)].st_name;
      void* target = strcmp(name, "signal") == 0      ? (void*)signals_host_signal
                     : strcmp(name, "sigaction") == 0 ? (void*)signals_host_sigaction
                                                      : NULL;
      if (target != NULL) {
        *patched += signals_patch_slot(info, info->dlpi_addr + r->r_offset, target);
      }
    }
  }
  return 1;
}

int signals_protect(void)
{
  int patched = 0;
  if (atomic_load(&signals_active)) {
    dl_iterate_phdr(signals_patch_program, &patched);
  }
  return patched;
}
