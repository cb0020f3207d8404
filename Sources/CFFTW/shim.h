#ifndef VOICEGUARD_CFFTW_SHIM_H
#define VOICEGUARD_CFFTW_SHIM_H
/* Keep fftw(f)_complex as a plain two-element array so it imports as a tuple. */
#define FFTW_NO_Complex 1
#include <fftw3.h>

/* fftwf_version is an unsized array and does not import into Swift. */
static inline const char *voiceguard_fftwf_version(void) { return fftwf_version; }
#endif
