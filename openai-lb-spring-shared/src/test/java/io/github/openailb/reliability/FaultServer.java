package io.github.openailb.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * A raw-socket backend that answers each request with a fault chosen from a seeded random mix,
 * keyed by the request's {@value #REQUEST_ID} header and this server's index, and records what it
 * answered so a test can judge every request against what the backends really did. Every answer
 * closes its connection, so the open-connection count returns to zero once the client has let go.
 */
final class FaultServer implements AutoCloseable {

	static final String REQUEST_ID = "x-fault-request";

	/** What a backend does with one request, and how often (weight). */
	enum Fault {

		OK_JSON(10), OK_SSE(8), SLOW_FIRST_BYTE(2),
		THROTTLED_RETRY_AFTER_MS(2), THROTTLED_RETRY_AFTER_SECONDS(2), THROTTLED_HTTP_DATE(2),
		THROTTLED_RATELIMIT_RESET(2), THROTTLED_BODY_PHRASE(2), THROTTLED_NO_HINT(2),
		ERROR_500(2), ERROR_502(2), ERROR_503(2), ERROR_504(2),
		RESET_MID_BODY(2), HANG(2), STREAM_CUT(2),
		// issue #16: interim answers first, a protocol switch, a redirect, a gzip body, and trickles
		// (rarer: each holds its request until the response timeout or max-duration)
		INTERIM_FIRST(2), SWITCHING_PROTOCOLS(2), REDIRECT(2), GZIP_JSON(2), TRICKLE_HEAD(1), TRICKLE_BODY(1);

		final int weight;

		Fault(int weight) {
			this.weight = weight;
		}

		/** A complete 2xx answer. */
		boolean isSuccess() {
			return this == OK_JSON || this == OK_SSE || this == SLOW_FIRST_BYTE || this == INTERIM_FIRST
					|| this == GZIP_JSON;
		}

		/** A 2xx whose body breaks (or never ends): the caller may see an error after the answer started. */
		boolean breaksBody() {
			return this == RESET_MID_BODY || this == STREAM_CUT || this == TRICKLE_BODY;
		}

		static Fault pick(Random random) {
			int total = 0;
			for (Fault fault : values()) {
				total += fault.weight;
			}
			int n = random.nextInt(total);
			for (Fault fault : values()) {
				n -= fault.weight;
				if (n < 0) {
					return fault;
				}
			}
			throw new IllegalStateException();
		}

	}

	/** One answer given: which backend, what fault, when the request arrived ({@link System#nanoTime()}). */
	record Answer(String backend, Fault fault, long arrived) {
	}

	private final String name;

	private final long seed;

	private final ServerSocket server;

	private final ExecutorService handlers;

	private final Map<String, List<Answer>> log;

	private final AtomicInteger open = new AtomicInteger();

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	FaultServer(String name, long seed, Map<String, List<Answer>> log) throws IOException {
		this.name = name;
		this.seed = seed;
		this.log = log;
		this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
		AtomicInteger threads = new AtomicInteger();
		this.handlers = Executors.newCachedThreadPool((task) -> {
			Thread thread = new Thread(task, "fault-server-" + name + "-" + threads.incrementAndGet());
			thread.setDaemon(true);
			return thread;
		});
		this.handlers.execute(this::accept);
	}

	String url() {
		return "http://127.0.0.1:" + this.server.getLocalPort();
	}

	/** Connections accepted and not yet closed. */
	int openConnections() {
		return this.open.get();
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket socket = this.server.accept();
				this.open.incrementAndGet();
				this.sockets.add(socket);
				this.handlers.execute(() -> handle(socket));
			}
			catch (IOException ex) {
				// closed
			}
		}
	}

	private void handle(Socket socket) {
		try (socket) {
			String id = readRequest(socket.getInputStream());
			if (id == null) {
				return;
			}
			Fault fault = Fault.pick(new Random(this.seed * 1_000_003L + id.hashCode() * 31L + this.name.hashCode()));
			// logged before answering, so the log is complete by the time the client has the answer
			this.log.computeIfAbsent(id, (key) -> new CopyOnWriteArrayList<>())
				.add(new Answer(this.name, fault, System.nanoTime()));
			answer(socket, fault, id);
		}
		catch (IOException | InterruptedException ex) {
			// the client went away, or the fault itself
		}
		finally {
			this.sockets.remove(socket);
			this.open.decrementAndGet();
		}
	}

	private static void answer(Socket socket, Fault fault, String id) throws IOException, InterruptedException {
		OutputStream out = socket.getOutputStream();
		String json = "{\"id\":\"" + id + "\"}";
		switch (fault) {
			case OK_JSON -> write(out, 200, "application/json", "", json);
			case SLOW_FIRST_BYTE -> {
				// well below the response timeout: slow, but an answer
				Thread.sleep(30);
				write(out, 200, "application/json", "", json);
			}
			case OK_SSE -> write(out, 200, "text/event-stream", "", "data: " + json + "\n\ndata: [DONE]\n\n");
			case THROTTLED_RETRY_AFTER_MS -> throttled(out, "retry-after-ms: 20\r\n", "Rate limited.");
			case THROTTLED_RETRY_AFTER_SECONDS -> throttled(out, "Retry-After: 1\r\n", "Rate limited.");
			case THROTTLED_HTTP_DATE -> throttled(out, "Retry-After: "
					+ DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(2))
					+ "\r\n", "Rate limited.");
			case THROTTLED_RATELIMIT_RESET -> throttled(out, "x-ratelimit-reset-requests: 40ms\r\n", "Rate limited.");
			case THROTTLED_BODY_PHRASE -> throttled(out, "", "Rate limit is exceeded. Please retry after 1 second.");
			case THROTTLED_NO_HINT -> throttled(out, "", "Rate limited.");
			case ERROR_500 -> write(out, 500, "application/json", "", "{\"error\":{\"message\":\"boom 500\"}}");
			case ERROR_502 -> write(out, 502, "text/plain", "", "bad gateway");
			case ERROR_503 -> write(out, 503, "application/json", "", "{\"error\":{\"message\":\"busy\"}}");
			case ERROR_504 -> write(out, 504, "text/plain", "", "gateway timeout");
			case RESET_MID_BODY -> {
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"id\":")
					.getBytes(StandardCharsets.US_ASCII));
				out.flush();
				socket.setSoLinger(true, 0);
			}
			case STREAM_CUT -> {
				String events = "data: one\n\ndata: two\n\n";
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
						+ Integer.toHexString(events.length()) + "\r\n" + events + "\r\n")
					.getBytes(StandardCharsets.US_ASCII));
				out.flush();
				socket.setSoLinger(true, 0);
			}
			case INTERIM_FIRST -> {
				out.write("HTTP/1.1 102 Processing\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
				out.flush();
				out.write("HTTP/1.1 103 Early Hints\r\nLink: </x.css>; rel=preload\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
				write(out, 200, "application/json", "", json);
			}
			case SWITCHING_PROTOCOLS -> {
				out.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
					.getBytes(StandardCharsets.US_ASCII));
				out.flush();
				awaitClose(socket);
			}
			case REDIRECT -> write(out, 307, "text/plain", "Location: http://127.0.0.1:9/elsewhere\r\n", "moved");
			case GZIP_JSON -> {
				ByteArrayOutputStream zipped = new ByteArrayOutputStream();
				try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
					gzip.write(json.getBytes(StandardCharsets.UTF_8));
				}
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
						+ "Content-Length: " + zipped.size() + "\r\nConnection: close\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
				zipped.writeTo(out);
				out.flush();
			}
			case TRICKLE_HEAD -> trickle(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
					+ json.length() + "\r\nConnection: close\r\n\r\n" + json);
			case TRICKLE_BODY -> {
				String body = "{\"id\":\"" + id + "\",\"padding\":\"" + "x".repeat(200) + "\"}";
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
						+ "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
				trickle(out, body);
			}
			case HANG -> {
				// never answer; wait for the client to give up (or the test to close the server)
				awaitClose(socket);
			}
		}
	}

	/** One byte every 100 ms: never silent for long, never done in time. */
	private static void trickle(OutputStream out, String text) throws IOException, InterruptedException {
		for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
			out.write(b);
			out.flush();
			Thread.sleep(100);
		}
	}

	private static void awaitClose(Socket socket) throws IOException {
		while (socket.getInputStream().read() != -1) {
			// discard
		}
	}

	private static void throttled(OutputStream out, String hint, String message) throws IOException {
		write(out, 429, "application/json", hint, "{\"error\":{\"code\":\"429\",\"message\":\"" + message + "\"}}");
	}

	private static void write(OutputStream out, int status, String type, String extraHeaders, String body)
			throws IOException {
		byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
		String head = "HTTP/1.1 " + status + " X\r\nContent-Type: " + type + "\r\nContent-Length: " + bytes.length
				+ "\r\nConnection: close\r\n" + extraHeaders + "\r\n";
		out.write(head.getBytes(StandardCharsets.US_ASCII));
		out.write(bytes);
		out.flush();
	}

	/** Read the head and the body; return the request id header, or null at end of stream. */
	private static String readRequest(InputStream in) throws IOException {
		ByteArrayOutputStream head = new ByteArrayOutputStream();
		int matched = 0;
		byte[] end = { '\r', '\n', '\r', '\n' };
		int b;
		while (matched < 4) {
			b = in.read();
			if (b == -1) {
				return null;
			}
			head.write(b);
			matched = (b == end[matched]) ? matched + 1 : ((b == '\r') ? 1 : 0);
		}
		String id = null;
		long length = 0;
		for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
			int colon = line.indexOf(':');
			if (colon > 0) {
				String header = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
				String value = line.substring(colon + 1).trim();
				if (header.equals(REQUEST_ID)) {
					id = value;
				}
				else if (header.equals("content-length")) {
					length = Long.parseLong(value);
				}
			}
		}
		in.readNBytes((int) length);
		return id;
	}

	@Override
	public void close() throws IOException {
		this.server.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
		this.handlers.shutdownNow();
	}

}
