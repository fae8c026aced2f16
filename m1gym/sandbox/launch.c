/* m1gym-launch: the last step between the sandbox agent and an untrusted program.
 *
 *   m1gym-launch ERRFD CPU_SOFT_S MEM_MB STACK_MB UID GID CWD CMD [ARG...]
 *
 * The agent starts this with posix_spawn (a vfork: no copy of the agent's page tables, no Python
 * after-fork work), which is ~1 ms cheaper per run than os.fork() + setup in Python. It applies what
 * posix_spawn cannot: the OOM score, resource limits (0 = no limit), the work dir and the drop to
 * the sandbox user, then execs CMD (searched in the PATH of the environment it was given).
 * Any failure is written to ERRFD and ends with status 127; ERRFD is close-on-exec, so the agent
 * reads EOF on it once CMD has started. Built into the base image (static, see image.py).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int errfd = -1;

static void fail(const char *what, const char *arg) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s: %s%s%s", what, strerror(errno), arg ? ": " : "", arg ? arg : "");
    if (errfd >= 0 && n > 0)
        (void)!write(errfd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    _exit(127);
}

static void limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit rl = {soft, hard};
    if (setrlimit(resource, &rl) != 0)
        fail("setrlimit", NULL);
}

int main(int argc, char **argv) {
    if (argc < 9) {
        errno = EINVAL;
        fail("usage: m1gym-launch ERRFD CPU_SOFT_S MEM_MB STACK_MB UID GID CWD CMD [ARG...]", NULL);
    }
    errfd = atoi(argv[1]);
    unsigned long cpu = strtoul(argv[2], NULL, 10), mem = strtoul(argv[3], NULL, 10);
    unsigned long stack = strtoul(argv[4], NULL, 10);
    uid_t uid = (uid_t)strtoul(argv[5], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[6], NULL, 10);

    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd >= 0) { /* the OOM killer takes user programs, never the agent */
        (void)!write(fd, "1000", 4);
        close(fd);
    }
    if (cpu) limit(RLIMIT_CPU, cpu, cpu + 1);
    if (mem) limit(RLIMIT_DATA, (rlim_t)mem << 20, (rlim_t)mem << 20);
    if (stack) limit(RLIMIT_STACK, (rlim_t)stack << 20, (rlim_t)stack << 20);
    limit(RLIMIT_CORE, 0, 0);
    limit(RLIMIT_NOFILE, 256, 256);
    if (chdir(argv[7]) != 0) fail("chdir", argv[7]);
    if (setgroups(0, NULL) != 0) fail("setgroups", NULL);
    if (setgid(gid) != 0) fail("setgid", NULL);
    if (setuid(uid) != 0) fail("setuid", NULL);
    if (fcntl(errfd, F_SETFD, FD_CLOEXEC) != 0) fail("fcntl", NULL);
    execvp(argv[8], argv + 8);
    fail("exec", argv[8]);
    return 127;
}
