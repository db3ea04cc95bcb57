package io.github.openailb.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A JDK HTTP server whose answers are written step by step by the test, for what WireMock
 * cannot script: an event stream that waits for the test, a stall after the headers, a stream
 * cut in the middle.
 */
public final class ScriptedBackend implements AutoCloseable {

	private final HttpServer server;

	private final AtomicInteger requests = new AtomicInteger();

	/** Released when the test ends, so stalled handlers never outlive it. */
	private final CountDownLatch closing = new CountDownLatch(1);

	public ScriptedBackend(Script script) throws IOException {
		this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		this.server.setExecutor(Executors.newCachedThreadPool());
		this.server.createContext("/", (exchange) -> {
			this.requests.incrementAndGet();
			exchange.getRequestBody().readAllBytes();
			try {
				script.answer(exchange, this);
			}
			catch (Exception ex) {
				// a script that cuts the connection ends here
			}
			finally {
				exchange.close();
			}
		});
		this.server.start();
	}

	public String url() {
		return "http://127.0.0.1:" + this.server.getAddress().getPort();
	}

	public int requests() {
		return this.requests.get();
	}

	/** Block the handler until the test closes the backend (bounded, so nothing hangs forever). */
	public void stallUntilClosed() throws InterruptedException {
		this.closing.await(30, TimeUnit.SECONDS);
	}

	public static void startEventStream(HttpExchange exchange) throws IOException {
		exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
		exchange.sendResponseHeaders(200, 0);
	}

	public static void event(OutputStream out, String data) throws IOException {
		out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

	@Override
	public void close() {
		this.closing.countDown();
		this.server.stop(0);
	}

	@FunctionalInterface
	public interface Script {

		void answer(HttpExchange exchange, ScriptedBackend backend) throws Exception;

	}

}
