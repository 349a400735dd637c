/* placeholder: being written */
#include "controller.h"
const zk_controller_ops zk_cpucaps_ops = { .name = "caps" };
