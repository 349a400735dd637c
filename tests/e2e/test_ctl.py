"""zoneadmd's control socket read strictly (zk_ctl_parse_request): lines no
vmadm or prctl sends are refused with the exact message and its errno
("error <errno> <message>"), and the zone and its zoneadmd carry on as
before."""
import errno
import json
import os
import socket

from conftest import zone_payload


def request(pool, uuid, line):
    path = os.path.join(pool.rundir, uuid, "zoneadmd.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(line + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
    return reply.decode().rstrip("\n")


def test_malformed_requests_are_refused(pool, image):
    uuid = pool.create(zone_payload(image, cpu_cap=100))
    assert request(pool, uuid, b"halt") == \
        'error %d unknown request "halt"' % errno.EINVAL
    long_name = b"zone.cpu-cap" + b"x" * 60
    for line in (b"stop", b"stop -1 1", b"stop 5 1 extra", b"stop 99999999999",
                 b"reboot 2", b"rctl set  zone.cpu-cap 50",
                 b"rctl delete " + long_name, b"status "):
        assert request(pool, uuid, line) == \
            'error %d malformed request "%s"' % (errno.EINVAL, line.decode())
    # none of them stopped or changed the zone
    assert request(pool, uuid, b"status").startswith("ok running ")
    assert pool.get(uuid)["state"] == "running"
    assert rctls(pool, uuid)["cpu_cap"] == 100
    assert request(pool, uuid, b"rctl set zone.cpu-cap 50") == "ok"
    assert rctls(pool, uuid)["cpu_cap"] == 50


def rctls(pool, uuid):
    reply = request(pool, uuid, b"rctl get")
    assert reply.startswith("ok ")
    return json.loads(reply[3:])
