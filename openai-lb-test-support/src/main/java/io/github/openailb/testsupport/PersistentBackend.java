package io.github.openailb.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw-socket backend that keeps each connection open and answers request after request on it
 * (one thread per connection), writing whatever its script says: for answers whose framing
 * matters across requests on one pooled connection (interim 1xx answers), trickled answers and
 * hand-encoded bodies. It counts the connections it accepted and those still open.
 */
public final class PersistentBackend implements AutoCloseable {

	private final ServerSocket server;

	private final ExecutorService threads = Executors.newCachedThreadPool((task) -> {
		Thread thread = new Thread(task, "persistent-backend");
		thread.setDaemon(true);
		return thread;
	});

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private final AtomicInteger requests = new AtomicInteger();

	private final AtomicInteger connections = new AtomicInteger();

	public PersistentBackend(Script script) throws IOException {
		this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
		this.threads.execute(() -> {
			while (!this.server.isClosed()) {
				try {
					Socket socket = this.server.accept();
					this.connections.incrementAndGet();
					this.sockets.add(socket);
					this.threads.execute(() -> serve(socket, script));
				}
				catch (IOException ex) {
					// closed by the test
				}
			}
		});
	}

	public String url() {
		return "http://127.0.0.1:" + this.server.getLocalPort();
	}

	/** Requests read so far, over all connections. */
	public int requests() {
		return this.requests.get();
	}

	/** Connections accepted so far. */
	public int connections() {
		return this.connections.get();
	}

	/** Connections accepted and not closed yet (by either side). */
	public int openConnections() {
		return this.sockets.size();
	}

	private void serve(Socket socket, Script script) {
		try (socket) {
			InputStream in = socket.getInputStream();
			OutputStream out = socket.getOutputStream();
			Request request;
			while ((request = Request.read(in)) != null) {
				this.requests.incrementAndGet();
				script.answer(request, out);
				out.flush();
			}
		}
		catch (Exception ex) {
			// the client went away, or the script cut the connection
		}
		finally {
			this.sockets.remove(socket);
		}
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
		this.threads.shutdownNow();
	}

	/** Write an answer with a Content-Length, keeping the connection open. */
	public static void answer(OutputStream out, int status, String contentType, byte[] body, String... headers)
			throws IOException {
		StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n");
		head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(body.length).append("\r\n");
		for (int i = 0; i < headers.length; i += 2) {
			head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
		}
		out.write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
		out.write(body);
		out.flush();
	}

	/**
	 * One request as read from the socket.
	 *
	 * @param line the request line
	 * @param headers header values by lower-case name (the last one of a name)
	 * @param body the body, read by its Content-Length
	 */
	public record Request(String line, Map<String, String> headers, byte[] body) {

		public String header(String name) {
			return this.headers.get(name.toLowerCase(Locale.ROOT));
		}

		static Request read(InputStream in) throws IOException {
			ByteArrayOutputStream head = new ByteArrayOutputStream();
			int matched = 0;
			byte[] end = { '\r', '\n', '\r', '\n' };
			while (matched < 4) {
				int b = in.read();
				if (b == -1) {
					return null;
				}
				head.write(b);
				matched = (b == end[matched]) ? matched + 1 : ((b == '\r') ? 1 : 0);
			}
			String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
			Map<String, String> headers = new LinkedHashMap<>();
			for (int i = 1; i < lines.length; i++) {
				int colon = lines[i].indexOf(':');
				if (colon > 0) {
					headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
							lines[i].substring(colon + 1).trim());
				}
			}
			int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
			return new Request(lines[0], headers, in.readNBytes(length));
		}

	}

	@FunctionalInterface
	public interface Script {

		void answer(Request request, OutputStream out) throws Exception;

	}

}
