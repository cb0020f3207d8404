#ifndef VOICEGUARD_CSOXR_SHIM_H
#define VOICEGUARD_CSOXR_SHIM_H
#include <soxr.h>
#endif
