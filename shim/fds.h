/* Descriptors the shim inherited and does not need once the child runs. */
#ifndef SHIM_FDS_H
#define SHIM_FDS_H

/*
 * Let go of every inherited descriptor but stderr (the log): those above
 * 2 are closed, stdin and stdout are pointed at /dev/null, so that a pipe
 * shared with the child sees end-of-file when the child closes its end,
 * and nothing the shim opens later can land on descriptor 0 or 1.
 * Call once the child runs and before the shim opens anything of its own.
 */
void fds_release_inherited(void);

#endif
