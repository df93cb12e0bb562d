/*
 * mix.h - a 64-bit integer mixer (the splitmix64 finaliser) for hash
 * tables whose keys are numbers or ids with little entropy in their low
 * bits. Pure; the same key always mixes to the same value.
 */
#ifndef SN_MIX_H
#define SN_MIX_H

#include <stdint.h>

static inline uint64_t sn_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
