#!/bin/sh
# Create a throwaway CA and a server certificate for the loopback test receiver.
#
# Usage: make-pki.sh DIR
# Writes DIR/ca.pem (give it to the client, e.g. SSL_CERT_FILE=DIR/ca.pem),
# DIR/server.pem and DIR/server.key (receiver.py --tls-cert/--tls-key).
# The server certificate names localhost, 127.0.0.1 and ::1, so the client
# can verify the host whichever loopback name it dials. Keys are ECDSA P-256
# (PKI_KEY=rsa for RSA 2048, to test a TLS stack without ECDSA). Everything
# is valid for 2 days: it is made fresh for each test run and never reused.
set -eu

dir=${1:?usage: make-pki.sh DIR}
days=2

# keyEncipherment only means something for RSA key exchange.
case ${PKI_KEY:-ec} in
ec)  newkey='-newkey ec -pkeyopt ec_paramgen_curve:P-256'; ku=digitalSignature ;;
rsa) newkey='-newkey rsa:2048'; ku=digitalSignature,keyEncipherment ;;
*)   echo "make-pki.sh: PKI_KEY must be ec or rsa" >&2; exit 2 ;;
esac
mkdir -p "$dir"
umask 077

# openssl chatters on stderr even when all is well: show it only on failure.
quiet() {
	if ! "$@" 2>"$dir/.openssl.err"; then
		cat "$dir/.openssl.err" >&2
		rm -f "$dir/.openssl.err"
		exit 1
	fi
	rm -f "$dir/.openssl.err"
}

# The CA: self-signed, allowed to sign certificates and nothing else.
# shellcheck disable=SC2086  # $newkey is deliberately split into options
quiet openssl req -x509 $newkey -nodes -days "$days" \
	-subj '/CN=synthorg-shim throwaway test CA' \
	-addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
	-addext 'keyUsage=critical,keyCertSign,cRLSign' \
	-keyout "$dir/ca.key" -out "$dir/ca.pem"

# The server: a leaf for TLS server auth on the loopback names only.
# shellcheck disable=SC2086
quiet openssl req $newkey -nodes -subj '/CN=localhost' \
	-keyout "$dir/server.key" -out "$dir/server.csr"
cat >"$dir/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,$ku
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
quiet openssl x509 -req -days "$days" -in "$dir/server.csr" \
	-CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
	-extfile "$dir/server.ext" -out "$dir/server.pem"
rm -f "$dir/server.csr" "$dir/server.ext"

# Certificates are public; let a receiver run by another user read them.
chmod 644 "$dir/ca.pem" "$dir/server.pem"
openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null
echo "$dir/ca.pem $dir/server.pem $dir/server.key"
