package io.github.openailb.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw-socket backend that reads the request head and then does whatever its script says with
 * the socket, for answers no HTTP server will produce (no status line, garbage instead of HTTP).
 */
final class RawBackend implements AutoCloseable {

	private final ServerSocket server;

	private final AtomicInteger requests = new AtomicInteger();

	RawBackend(Script script) throws IOException {
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		Thread acceptor = new Thread(() -> {
			while (!this.server.isClosed()) {
				try (Socket socket = this.server.accept()) {
					this.requests.incrementAndGet();
					readHead(socket.getInputStream());
					script.answer(socket);
				}
				catch (IOException ex) {
					// closed by the test, or by the script
				}
			}
		}, "raw-backend");
		acceptor.setDaemon(true);
		acceptor.start();
	}

	String url() {
		return "http://127.0.0.1:" + this.server.getLocalPort();
	}

	int requests() {
		return this.requests.get();
	}

	private static void readHead(InputStream in) throws IOException {
		int matched = 0;
		byte[] end = { '\r', '\n', '\r', '\n' };
		int b;
		while (matched < 4 && (b = in.read()) != -1) {
			matched = (b == end[matched]) ? matched + 1 : ((b == '\r') ? 1 : 0);
		}
	}

	@Override
	public void close() throws IOException {
		this.server.close();
	}

	@FunctionalInterface
	interface Script {

		void answer(Socket socket) throws IOException;

	}

}
