#!/bin/sh
# A private certificate authority for a CAH server on a LAN without a public domain
# (docs/deploy.md, "On a LAN"). Its root (ca.crt) is installed once on every phone and office
# PC; it then signs the server's certificate.
#
#   sh local-ca.sh DIR HOSTNAME [IPV4 ...]
#
# DIR keeps ca.key/ca.crt (made on the first run, kept on later runs) and a fresh
# server.key/server.crt for HOSTNAME and the given IPv4 addresses. The root may only vouch for
# those names (X.509 name constraints): whoever steals ca.key cannot impersonate any other
# site to the phones that trust it. Running it again renews the server certificate.
set -eu

if [ "$#" -lt 2 ]; then
  echo "pakai: sh local-ca.sh FOLDER NAMA-HOST [ALAMAT-IPv4 ...]" >&2
  exit 2
fi
dir=$1
host=$2
shift 2

names="DNS:$host"
permitted="permitted;DNS:$host"
for ip in "$@"; do
  names="$names,IP:$ip"
  permitted="$permitted,permitted;IP:$ip/255.255.255.255"
done
if [ "$#" -eq 0 ]; then
  # Without an address of its own, the root may vouch for no address at all.
  permitted="$permitted,excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0"
fi

umask 077
mkdir -p "$dir"
cd "$dir"

if [ ! -f ca.key ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.crt -days 3650 -subj "/O=CAH/CN=CAH root $host" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=critical,$permitted"
  chmod 644 ca.crt
fi

cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$names
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj "/CN=$host"
# 825 days: the longest validity that every phone browser accepts for a server certificate.
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
  -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile server.ext -out server.crt
rm -f server.csr server.ext
chmod 644 server.crt
echo "Selesai: $dir/ca.crt (pasang di HP), $dir/server.crt dan $dir/server.key (untuk nginx)."
