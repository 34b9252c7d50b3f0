#ifndef DECNET_CZEROMQ_SHIM_H
#define DECNET_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
