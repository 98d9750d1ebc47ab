package io.microbpf.itest;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TCP connections on 127.0.0.1 made from this JVM, each sending a known number of bytes each way
 * and then closing (the client closes first; the server closes after reading end-of-stream).
 */
final class LoopbackTraffic {

    /**
     * One finished connection.
     *
     * @param serverPort the listening port (local port of the accepted socket)
     * @param clientPort the client's ephemeral port
     * @param clientToServerBytes payload bytes the client sent
     * @param serverToClientBytes payload bytes the server sent
     */
    record Connection(int serverPort, int clientPort, long clientToServerBytes, long serverToClientBytes) {}

    private LoopbackTraffic() {}

    static List<Connection> run(int connections) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        List<Connection> done = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, loopback)) {
            server.setSoTimeout(10_000);
            for (int i = 1; i <= connections; i++) {
                int up = 1000 * i + 17;
                int down = 500 * i + 3;
                try (Socket client = new Socket()) {
                    client.setSoTimeout(10_000);
                    client.connect(new InetSocketAddress(loopback, server.getLocalPort()), 10_000);
                    try (Socket accepted = server.accept()) {
                        accepted.setSoTimeout(10_000);
                        client.getOutputStream().write(filled(up, 'u'));
                        client.getOutputStream().flush();
                        readExactly(accepted.getInputStream(), up);
                        accepted.getOutputStream().write(filled(down, 'd'));
                        accepted.getOutputStream().flush();
                        readExactly(client.getInputStream(), down);
                        int clientPort = client.getLocalPort();
                        client.close(); // active close: FIN from the client first
                        if (accepted.getInputStream().read() != -1) {
                            throw new IOException("server expected end of stream");
                        }
                        done.add(new Connection(server.getLocalPort(), clientPort, up, down));
                    }
                }
            }
        }
        return done;
    }

    private static byte[] filled(int size, char c) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) c);
        return bytes;
    }

    private static void readExactly(InputStream in, int size) throws IOException {
        byte[] buffer = new byte[4096];
        int left = size;
        while (left > 0) {
            int n = in.read(buffer, 0, Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException("end of stream with " + left + " of " + size + " bytes missing");
            }
            left -= n;
        }
    }
}
