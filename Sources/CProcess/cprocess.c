#define _GNU_SOURCE
#include "cprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

pid_t omnifin_spawn_supervised(const char *path, char *const argv[], char *const envp[], int *output_fd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        return -saved;
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) _exit(126);
        // The parent may already be gone (between fork and prctl).
        if (getppid() != parent) _exit(126);
        // A signal mask or ignored signals inherited from the runtime's threads must not reach the program.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            if (null != STDIN_FILENO) close(null);
        }
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        // Put the child in its own process group: a terminal's Ctrl-C reaches Omnifin, which stops it in order.
        setpgid(0, 0);
        if (envp != NULL) {
            execve(path, argv, envp);
        } else {
            execv(path, argv);
        }
        const char *message = "cannot execute the program: ";
        (void)!write(STDERR_FILENO, message, strlen(message));
        const char *reason = strerror(errno);
        (void)!write(STDERR_FILENO, reason, strlen(reason));
        (void)!write(STDERR_FILENO, "\n", 1);
        _exit(127);
    }
    close(fds[1]);
    *output_fd = fds[0];
    return pid;
}
