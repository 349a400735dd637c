/* placeholder: being written */
#include "controller.h"
const zk_controller_ops zk_memcap_ops = { .name = "memory_cap" };
