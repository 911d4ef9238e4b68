#!/usr/bin/env bash
# Installs what the portal needs on a Debian machine, idempotently: Debian packages (WeasyPrint's
# Pango and HarfBuzz subsetter, a CJK font, gettext, Chromium for browser tests, Redis, Node.js),
# front-end assets from the npm registry, a virtual environment with the pinned requirements, a .env
# with a fresh SECRET_KEY, and compiled translations.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(python3-venv gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
  chromium redis-server redis-tools)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# Front-end assets (htmx, ECharts) are served by the app itself, never from a CDN.
npm ci --no-audit --no-fund --loglevel=error

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt

if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  printf 'DEBUG=true\nSECRET_KEY=%s\n' "$secret" > .env
  echo "Wrote .env (embedded defaults: SQLite, Celery in eager mode)."
fi

.venv/bin/python manage.py compilemessages --ignore=.venv -v0
