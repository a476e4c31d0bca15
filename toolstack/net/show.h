/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network show */
#ifndef HVMCTL_NET_SHOW_H
#define HVMCTL_NET_SHOW_H

#include "toolstack/net/state.h"

/* print the networks that are up (all, or those named) */
int net_show(struct net_ctx *c, char **names, int nnames);

#endif
