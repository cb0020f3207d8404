#ifndef VOICEGUARD_CSNDFILE_SHIM_H
#define VOICEGUARD_CSNDFILE_SHIM_H
#include <sndfile.h>
#endif
