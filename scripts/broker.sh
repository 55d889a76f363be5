# Sourced by scripts/test.sh: make a RabbitMQ broker reachable and set CSE_TEST_AMQP_URL.
# Installs Debian's rabbitmq-server (apt-get update first) when no broker answers.

: "${CSE_TEST_AMQP_URL:=amqp://guest:guest@127.0.0.1:5672/%2f}"

broker_port_open() {
    local hostport host port
    hostport="${CSE_TEST_AMQP_URL#*://}"
    hostport="${hostport#*@}"
    hostport="${hostport%%/*}"
    host="${hostport%%:*}"
    port="${hostport##*:}"
    [ "$port" = "$hostport" ] && port=5672
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_broker() {
    if broker_port_open; then
        echo "broker: using $(echo "$CSE_TEST_AMQP_URL" | sed -E 's#//[^@]*@#//***@#')"
        return 0
    fi
    if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
        echo "broker: installing rabbitmq-server"
        as_root apt-get update -q
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q rabbitmq-server
    fi
    echo "broker: starting rabbitmq-server"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        as_root systemctl start rabbitmq-server || as_root /usr/sbin/rabbitmq-server -detached
    else
        as_root /usr/sbin/rabbitmq-server -detached || true
    fi
    for _ in $(seq 1 90); do
        if broker_port_open; then
            # The port opens a moment before the broker takes logins.
            as_root /usr/sbin/rabbitmqctl await_startup >/dev/null 2>&1 || sleep 2
            echo "broker: ready"
            return 0
        fi
        sleep 1
    done
    echo "broker: rabbitmq-server did not start listening within 90 s" >&2
    return 1
}
