/* The shim's version; SHIM_GIT is set by the build when it knows it. */
#ifndef SHIM_VERSION_H
#define SHIM_VERSION_H

#define SHIM_VERSION "0.1.0"

#endif
