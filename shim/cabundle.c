/* The CA bundle, inside the binary: a FROM scratch image has no /etc/ssl. */
#include <stddef.h>

#include "embed.h"

#ifndef CA_BUNDLE_PATH
#error "CA_BUNDLE_PATH must name the PEM bundle to embed"
#endif

_Static_assert(sizeof(size_t) == 8, "ca_bundle_len is emitted as a .quad");

/*
 * .incbin pulls the file in at assembly time, followed by a NUL; the
 * length (without the NUL) is computed by the assembler beside it.  The
 * section's name keeps the bundle out of .rodata, whose start the init
 * reads at every boot: 230 KiB in between would spread its strings.
 */
__asm__(".section .synthorg.ca_bundle,\"a\"\n"
	".global ca_bundle\n"
	".type ca_bundle, @object\n"
	".balign 16\n"
	"ca_bundle:\n"
	".incbin \"" CA_BUNDLE_PATH "\"\n"
	"ca_bundle_end:\n"
	".byte 0\n"
	".size ca_bundle, . - ca_bundle\n"
	".global ca_bundle_len\n"
	".type ca_bundle_len, @object\n"
	".balign 8\n"
	"ca_bundle_len:\n"
	".quad ca_bundle_end - ca_bundle\n"
	".size ca_bundle_len, 8\n"
	".previous\n");
