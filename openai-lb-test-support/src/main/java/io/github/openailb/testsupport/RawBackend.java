package io.github.openailb.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw-socket backend that reads the request head and then does whatever its script says with
 * the socket, for answers no HTTP server will produce (no status line, garbage instead of HTTP).
 */
public final class RawBackend implements AutoCloseable {

	private final ServerSocket server;

	private final AtomicInteger requests = new AtomicInteger();

	public RawBackend(Script script) throws IOException {
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

	public String url() {
		return "http://127.0.0.1:" + this.server.getLocalPort();
	}

	public int requests() {
		return this.requests.get();
	}

	/**
	 * Start a chunked event stream, send one event, then reset the connection: a stream broken
	 * after it started.
	 */
	public static void cutAfterOneEvent(Socket socket) throws IOException {
		OutputStream out = socket.getOutputStream();
		String event = "data: partial\n\n";
		out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
				+ Integer.toHexString(event.length()) + "\r\n" + event + "\r\n")
			.getBytes(StandardCharsets.US_ASCII));
		out.flush();
		socket.setSoLinger(true, 0);
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
	public interface Script {

		void answer(Socket socket) throws IOException;

	}

}
