/* SPDX-License-Identifier: GPL-2.0-only */
/* The USB HID tablet (hid_tablet.c): an absolute pointer for the guest, fed by dm/input.h. */
#ifndef HVMD_USB_HID_TABLET_H
#define HVMD_USB_HID_TABLET_H

#include "devices/usb/usb.h"

struct vm;

/* A tablet on VM, registered as an INPUT_ABS target (active once the guest configured it).
 * NULL on allocation or registration failure. Freed by usb_dev_free. */
struct usb_dev *hid_tablet_new(struct vm *vm);

#endif
