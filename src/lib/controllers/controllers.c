#include "controllers/controller.h"


extern const zk_controller_ops zk_memcap_ops;
extern const zk_controller_ops zk_cpucaps_ops;
extern const zk_controller_ops zk_zonemisc_ops;

/* Order matters only for kstat layout within the zone's file. */
static const zk_controller_ops *const controllers[] = {
	&zk_memcap_ops,
	&zk_cpucaps_ops,
	&zk_zonemisc_ops,
};

const zk_controller_ops *const *
zk_controllers(size_t *n)
{
	*n = sizeof(controllers) / sizeof(controllers[0]);
	return controllers;
}
