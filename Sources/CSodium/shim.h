#ifndef DECNET_CSODIUM_SHIM_H
#define DECNET_CSODIUM_SHIM_H
#include <sodium.h>
#endif
