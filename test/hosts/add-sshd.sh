#!/usr/bin/env bash
# Turns a test host's throw-away root (make-root.sh) into an SSH host for the end-to-end run: OpenSSH's sshd with its
# sftp subsystem and sudo copied in with their libraries, a host key of its own, the operator's public key authorized
# for root and for one non-root login user who may run commands as root through non-interactive sudo (as the
# product's `sudo -n` expects). Nothing on this machine outside the root is changed: no user, no sysctl, no service.
# The sshd itself is started by the test (chroot <root> /usr/sbin/sshd ...), bound to the host's own loopback address.
# Usage: add-sshd.sh <root> <authorized public key file> <login user>
set -euo pipefail

root="$1"
authorized="$2"
login="$3"
# A root file system's top is 0755 (mkdtemp made this one 0700): the login user must get through it.
chmod 0755 "$root"

# shellcheck source=/dev/null  # copy-with-libs.sh is checked on its own
. "$(dirname "${BASH_SOURCE[0]}")/copy-with-libs.sh"
for bin in /usr/sbin/sshd /usr/lib/openssh/sftp-server /usr/bin/sudo /usr/bin/ssh-keygen /usr/bin/ps /usr/bin/kill; do
  copy_with_libs "$bin"
done
# sudo loads its plugins and PAM modules at run time (ldd cannot see them).
libdir="$(dirname "$(ldd /usr/bin/sudo | awk '/libc.so/ { print $3 }')")"
for lib in /usr/libexec/sudo/sudoers.so /usr/libexec/sudo/libsudo_util.so.0 "$libdir/security/pam_permit.so"; do
  copy_with_libs "$lib"
done
chmod 4755 "$root/usr/bin/sudo"
mkdir -p "$root/etc/pam.d"
# The test host's PAM: sudo's account and session checks pass; authentication is never asked (NOPASSWD below).
printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required pam_permit.so\n' \
  >"$root/etc/pam.d/sudo"
cp "$root/etc/pam.d/sudo" "$root/etc/pam.d/other"

# Accounts: sshd's privilege-separation user and the login user, with sudo rights to run anything as root without a
# password and without a tty (the command provider opens no pty).
echo "sshd:x:101:65534::/run/sshd:/usr/sbin/nologin" >>"$root/etc/passwd"
echo "nogroup:x:65534:" >>"$root/etc/group"
echo "$login:x:1001:1001::/home/$login:/bin/bash" >>"$root/etc/passwd"
echo "$login:x:1001:" >>"$root/etc/group"
echo "$login:*:19000:0:99999:7:::" >>"$root/etc/shadow"
install -d -m 0755 "$root/etc/sudoers.d"
printf 'Defaults !requiretty\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n' >"$root/etc/sudoers"
printf '%s ALL=(root) NOPASSWD: ALL\n' "$login" >"$root/etc/sudoers.d/$login"
chmod 0440 "$root/etc/sudoers" "$root/etc/sudoers.d/$login"

for home in /root "/home/$login"; do
  install -d -m 0700 "$root$home/.ssh"
  install -m 0600 "$authorized" "$root$home/.ssh/authorized_keys"
done
chown -R 1001:1001 "$root/home/$login"
chmod 0700 "$root/home/$login"

# sudo resolves this machine's host name; the root has no resolver.
printf '127.0.0.1 localhost %s\n' "$(hostname)" >"$root/etc/hosts"

# The sftp server as an external subsystem that writes its log (each file closed, with bytes read and written) to a
# file the test reads; the session's own stderr would go back to the client.
printf '#!/bin/bash\nexec /usr/lib/openssh/sftp-server -e -l INFO 2>>/var/log/sftp-server.log\n' \
  >"$root/usr/local/bin/sftp-logged"
chmod 0755 "$root/usr/local/bin/sftp-logged"
# Every login user appends to it (paths and byte counts only, never content).
install -m 0666 /dev/null "$root/var/log/sftp-server.log"

install -d -m 0755 "$root/run/sshd" "$root/etc/ssh"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$root/etc/ssh/ssh_host_ed25519_key"
# LogLevel VERBOSE logs each session's command or subsystem ("Starting session: command for ..."), and the sftp
# server logs each file it closes with its byte counts: the test counts remote commands and copied bytes from them.
cat >"$root/etc/ssh/sshd_config" <<EOF
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers root $login
LogLevel VERBOSE
PidFile /run/sshd.pid
Subsystem sftp /usr/local/bin/sftp-logged
EOF
