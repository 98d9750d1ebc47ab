package io.microbpf.sink.http;

import java.security.Principal;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

/**
 * Checks HTTP basic credentials against a JAAS realm (Karaf's {@code karaf} realm by default:
 * {@code etc/users.properties}), optionally requiring a role.
 */
final class JaasAuthenticator implements Routes.Authenticator {
    private final String realm;
    private final String role;

    JaasAuthenticator(String realm, String role) {
        this.realm = realm;
        this.role = role;
    }

    @Override
    public boolean authenticate(String user, String password) {
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        // Karaf's JAAS proxy login module lives on the system class path (lib/boot)
        t.setContextClassLoader(ClassLoader.getSystemClassLoader());
        try {
            Subject subject = new Subject();
            LoginContext lc = new LoginContext(realm, subject, callbacks -> {
                for (Callback c : callbacks) {
                    if (c instanceof NameCallback n) {
                        n.setName(user);
                    } else if (c instanceof PasswordCallback p) {
                        p.setPassword(password.toCharArray());
                    } else {
                        throw new UnsupportedCallbackException(c);
                    }
                }
            });
            lc.login();
            boolean ok = role == null || role.isEmpty() || hasRole(subject);
            lc.logout();
            return ok;
        } catch (LoginException | SecurityException e) {
            return false;
        } finally {
            t.setContextClassLoader(before);
        }
    }

    private boolean hasRole(Subject subject) {
        for (Principal p : subject.getPrincipals()) {
            if (p.getClass().getSimpleName().equals("RolePrincipal") && role.equals(p.getName())) {
                return true;
            }
        }
        return false;
    }
}
