/* placeholder: being written */
#include "controller.h"
const zk_controller_ops zk_zonemisc_ops = { .name = "zones" };
