#!/usr/bin/env bash
# Prepares this machine for the course's JupyterHub (run as root by `make hub`; see docs/hub.md):
#   - Node.js, npm and configurable-http-proxy (JupyterHub's proxy, installed into the project's .venv);
#   - real Unix accounts: ${PREFIX}instructor and ${PREFIX}student1..N, random passwords printed once
#     when an account is created and kept root-only in $STATE/private/accounts.txt (PAM checks them);
#   - nbgrader's exchange at a system path, mode 1777 as nbgrader documents;
#   - the instructor's course directory: a copy of source/, release/ and nbgrader_config.py in the
#     instructor's home (mode 0700), made once and never overwritten (it holds the gradebook);
#   - per-role Jupyter configuration (Formgrader for the instructor only, Assignment List for students)
#     that hub/jupyterhub_config.py hands to each user's server.
# Every setting comes from the environment, with the defaults below; the test (tests/test_hub.py) uses its own.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CNN_HUB_VENV:-$REPO/.venv}"
STATE="${CNN_HUB_STATE:-/srv/cnn-hub}"
PREFIX="${CNN_HUB_PREFIX:-cnn-}"
STUDENTS="${CNN_HUB_STUDENTS:-3}"
EXCHANGE="${CNN_HUB_EXCHANGE:-/srv/nbgrader/exchange}"
PORT="${CNN_HUB_PORT:-8000}"
# CNN_HUB_EDITION=ru serves the Russian edition (editions/ru/, course cnn-course-ru; docs/translating.md)
EDITION="${CNN_HUB_EDITION:-}"
COURSE_ID="cnn-course${EDITION:+-$EDITION}"
SOURCE_COURSE="$REPO${EDITION:+/editions/$EDITION}"
CHP_VERSION="4.6.3"   # configurable-http-proxy: 4.x runs on Debian 12's Node.js 18 (5.x needs Node.js 20)

die() { echo "hub/setup.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: it creates Unix users and the exchange, and JupyterHub must start servers as those users"
[ -x "$VENV/bin/jupyterhub" ] || die "no JupyterHub in $VENV (run 'make install-hub' first)"

# --- Node.js, npm and the proxy -------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    command -v apt-get >/dev/null || die "install Node.js and npm (no apt-get here)"
    apt-get update -q && apt-get install -y -q nodejs npm
fi
if [ ! -x "$VENV/bin/configurable-http-proxy" ] || \
   [ "$("$VENV/bin/configurable-http-proxy" --version 2>/dev/null)" != "$CHP_VERSION" ]; then
    npm install --global --no-fund --no-audit --loglevel=error --prefix "$VENV" "configurable-http-proxy@$CHP_VERSION"
fi

# --- state directory: world-traversable, secrets root-only ----------------------------------------
install -d -m 0711 -o root -g root "$STATE"
install -d -m 0700 -o root -g root "$STATE/private"
ACCOUNTS="$STATE/private/accounts.txt"
touch "$ACCOUNTS" && chmod 0600 "$ACCOUNTS"

# --- Unix accounts ---------------------------------------------------------------------------------
INSTRUCTOR="${PREFIX}instructor"
USERS=("$INSTRUCTOR")
for i in $(seq 1 "$STUDENTS"); do USERS+=("${PREFIX}student$i"); done
NEW_ACCOUNTS=()
for u in "${USERS[@]}"; do
    if id -u "$u" >/dev/null 2>&1; then
        grep -q "^$u " "$ACCOUNTS" || echo "NOTE: $u existed before; its password is not this script's to set or show"
    else
        useradd --create-home --shell /bin/bash --user-group "$u"
        pw="$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
        echo "$u:$pw" | chpasswd
        echo "$u $pw" >> "$ACCOUNTS"
        NEW_ACCOUNTS+=("$u $pw")
    fi
    home="$(getent passwd "$u" | cut -d: -f6)"
    chmod 0700 "$home"   # no one else reads a home directory (Debian's default lets everyone read)
done

# The servers run this virtualenv's programs as the users: it must be readable and executable by them.
# (A virtualenv made from a Python under /root, e.g. pyenv's, is not: the Makefile makes it from /usr/bin/python3.)
runuser -u "$INSTRUCTOR" -- "$VENV/bin/python" -c "import jupyterhub, nbgrader, grader_utils" || \
    die "$INSTRUCTOR cannot run $VENV/bin/python and its packages: the course, its virtualenv and the Python it was
    made from must be readable by every user (as root: rm -rf .venv && make install-hub PYTHON=/usr/bin/python3)"
# This checkout's solutions and grading data are for root and the instructor's copy only.
# Each edition (editions/<language>/) is a course directory too, with the same solutions and hidden tests.
for d in "$REPO" "$REPO"/editions/*/; do
    for p in source demo submitted autograded feedback gradebook.db; do
        [ -e "$d/$p" ] && [ ! -L "$d/$p" ] && chmod o-rwx "$d/$p"
    done
done

# --- nbgrader's exchange ---------------------------------------------------------------------------
[ -d "$(dirname "$EXCHANGE")" ] || install -d -m 0755 "$(dirname "$EXCHANGE")"
install -d -m 1777 "$EXCHANGE"
chmod 1777 "$EXCHANGE"

# --- the instructor's course directory ------------------------------------------------------------
ihome="$(getent passwd "$INSTRUCTOR" | cut -d: -f6)"
COURSE="$ihome/$COURSE_ID"
if [ ! -d "$COURSE" ]; then
    install -d -m 0700 "$COURSE"
    cp -r "$SOURCE_COURSE/source" "$SOURCE_COURSE/release" "$SOURCE_COURSE/nbgrader_config.py" "$COURSE/"
    chown -R "$INSTRUCTOR:" "$COURSE"
fi

# --- per-role Jupyter configuration (JUPYTER_CONFIG_PATH of each user's server) -------------------
write() { install -m 0644 /dev/stdin "$1"; }
for role in instructor student; do install -d -m 0755 "$STATE/jupyter/$role/labconfig"; done
write "$STATE/jupyter/instructor/nbgrader_config.py" <<PY
c = get_config()  # noqa: F821
c.CourseDirectory.root = "$COURSE"
c.CourseDirectory.course_id = "$COURSE_ID"
c.Exchange.root = "$EXCHANGE"
# collect refuses inbound folders in another student's name, symlinks and other non-plain files (docs/hub.md)
c.ExchangeFactory.collect = "grader_utils.instructor.course_exchange.CourseExchangeCollect"
# `nbgrader list --inbound` leaves out (and names) every folder collect would refuse
c.ExchangeFactory.list = "grader_utils.instructor.course_exchange.CourseExchangeList"
PY
write "$STATE/jupyter/student/nbgrader_config.py" <<PY
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "$COURSE_ID"
c.Exchange.root = "$EXCHANGE"
# submissions readable by the student and the instructor's group only (docs/hub.md)
c.ExchangeFactory.submit = "grader_utils.instructor.course_exchange.CourseExchangeSubmit"
PY
echo '{"ServerApp": {"jpserver_extensions": {}}}' | write "$STATE/jupyter/instructor/jupyter_server_config.json"
write "$STATE/jupyter/student/jupyter_server_config.json" <<'JSON'
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false,
                                       "nbgrader.server_extensions.course_list": false}}}
JSON
echo '{"disabledExtensions": {}}' | write "$STATE/jupyter/instructor/labconfig/page_config.json"
write "$STATE/jupyter/student/labconfig/page_config.json" <<'JSON'
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:create-assignment": true,
                        "@jupyter/nbgrader:course-list": true}}
JSON
python3 - "$STATE/hub.json" "$INSTRUCTOR" "$COURSE" "$EXCHANGE" "${USERS[@]:1}" <<'PY'
import json, sys
path, instructor, course, exchange, *students = sys.argv[1:]
with open(path, "w") as f:
    json.dump({"instructor": instructor, "students": students, "course": course, "exchange": exchange}, f, indent=1)
PY
chmod 0644 "$STATE/hub.json"

# --- what the admin needs to know -----------------------------------------------------------------
echo "== JupyterHub for $COURSE_ID: http://127.0.0.1:$PORT/  (Ctrl-C stops the hub and every server it started)"
echo "== accounts (PAM, real Unix users): instructor $INSTRUCTOR (Formgrader, course in $COURSE); students ${USERS[*]:1}"
if [ ${#NEW_ACCOUNTS[@]} -gt 0 ]; then
    echo "== new passwords, shown only now (root can read them again in $ACCOUNTS):"
    for a in "${NEW_ACCOUNTS[@]}"; do echo "   $a"; done
else
    echo "== passwords: in $ACCOUNTS (root only)"
fi
echo "== nbgrader exchange: $EXCHANGE"
if [ "${CNN_HUB_AUTH:-pam}" = lti13 ]; then
    echo "== logins: LTI 1.3 launches from ${CNN_HUB_LTI_ISSUER:-the LMS (set CNN_HUB_LTI_ISSUER)}, not passwords;" \
         "users map to the accounts above (docs/lms.md)"
fi
