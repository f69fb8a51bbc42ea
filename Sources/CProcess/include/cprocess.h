#ifndef OMNIFIN_CPROCESS_H
#define OMNIFIN_CPROCESS_H

#include <sys/types.h>

/// Starts the program `path` with `argv` (NULL-terminated, argv[0] included) and the environment `envp`
/// (NULL-terminated; NULL: the caller's own, which is readable by the same user only, unlike the arguments); its
/// standard input reads /dev/null, its standard output and error go to one pipe whose read end is stored in
/// `*output_fd` (close-on-exec in this process).
///
/// The child receives SIGTERM when the thread that called this function ends (Linux's parent-death signal), so a
/// supervisor that calls it from a thread which then waits for the child for its whole life never leaves an orphan
/// behind, even when the supervising process is killed with SIGKILL.
///
/// Returns the child's pid, or -errno when the pipe or the fork failed. A program that cannot be executed makes the
/// child exit with status 127 after writing the reason to the pipe.
pid_t omnifin_spawn_supervised(const char *path, char *const argv[], char *const envp[], int *output_fd);

#endif
