package io.github.openailb.simulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * One simulated Azure OpenAI instance on loopback: answers
 * {@code POST /openai/deployments/{deployment}/chat/completions} (as JSON or as a server-sent
 * event stream) and {@code .../embeddings} in the shape the Azure and OpenAI SDKs parse, within a
 * requests-per-minute budget: one per deployment when the instance lists its deployments (a name it
 * does not list gets a 404), else one for the whole instance. Plain Java (JDK HTTP server,
 * Jackson), so the demos of both Boot lines and the benchmarks share it.
 */
public final class SimulatedBackend {

	private static final Pattern PATH = Pattern.compile("/openai/deployments/([^/]+)/(chat/completions|embeddings)");

	private static final int DIMENSIONS = 8;

	private static final long MINUTE = 60_000;

	private final String name;

	private final SimulatedInstance settings;

	private final String apiKey;

	private final ObjectMapper json = new ObjectMapper();

	/** The budget of each deployment by its name, or of the whole instance under "". */
	private final Map<String, Window> windows = new LinkedHashMap<>();

	private HttpServer server;

	private ExecutorService executor;

	/**
	 * Create an instance; {@link #start()} opens its port.
	 * @param name the name it reports in its answers and its {@code x-simulator-instance} header
	 * @param settings its behaviour
	 * @param apiKey the {@code api-key} it accepts; any other gets a 401
	 */
	public SimulatedBackend(String name, SimulatedInstance settings, String apiKey) {
		this.name = name;
		this.settings = settings;
		this.apiKey = apiKey;
		if (settings.getDeployments().isEmpty()) {
			this.windows.put("", new Window(settings.getRequestsPerMinute()));
		}
		settings.getDeployments()
			.values()
			.forEach((deployment) -> this.windows.put(deployment.getName(), new Window(
					(deployment.getRequestsPerMinute() > 0) ? deployment.getRequestsPerMinute()
							: settings.getRequestsPerMinute())));
	}

	/**
	 * The instance's name.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * The deployments it serves: the model an application asks for → the deployment's name here.
	 * @return the deployments, empty when it serves any name
	 */
	public Map<String, String> deployments() {
		Map<String, String> names = new LinkedHashMap<>();
		this.settings.getDeployments().forEach((model, deployment) -> names.put(model, deployment.getName()));
		return names;
	}

	/**
	 * The port it listens on, once started.
	 * @return the port
	 */
	public int port() {
		return this.server.getAddress().getPort();
	}

	/**
	 * Listen on the loopback address, on the configured port (0: a free one).
	 * @throws IOException when the port cannot be opened
	 */
	public void start() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.settings.getPort()),
				100);
		this.executor = Executors.newCachedThreadPool((task) -> {
			Thread thread = new Thread(task, "simulator-" + this.name);
			thread.setDaemon(true);
			return thread;
		});
		this.server.setExecutor(this.executor);
		this.server.createContext("/", this::handle);
		this.server.start();
	}

	/** Stop listening. */
	public void stop() {
		if (this.server != null) {
			this.server.stop(0);
			this.executor.shutdownNow();
		}
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			Matcher path = PATH.matcher(exchange.getRequestURI().getPath());
			if (!"POST".equals(exchange.getRequestMethod()) || !path.matches()) {
				sendError(exchange, 404, "404", "Resource not found", Map.of());
				return;
			}
			if (!this.apiKey.equals(exchange.getRequestHeaders().getFirst("api-key"))) {
				sendError(exchange, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint.",
						Map.of());
				return;
			}
			Window window = this.windows.getOrDefault("", this.windows.get(path.group(1)));
			if (window == null) {
				sendError(exchange, 404, "DeploymentNotFound",
						"The API deployment for this resource does not exist.", Map.of());
				return;
			}
			boolean embeddings = "embeddings".equals(path.group(2));
			JsonNode request = this.json.readTree(readBody(exchange.getRequestBody()));
			long retryAfterMillis = window.admit();
			if (retryAfterMillis > 0) {
				long seconds = Math.max(1, (retryAfterMillis + 999) / 1000);
				sendError(exchange, 429, "429", "Requests to the "
						+ (embeddings ? "Embeddings_Create" : "ChatCompletions_Create") + " Operation under Azure OpenAI API"
						+ " have exceeded call rate limit of your current pricing tier. Please retry after " + seconds
						+ " seconds.", Map.of("Retry-After", String.valueOf(seconds), "retry-after-ms",
								String.valueOf(retryAfterMillis), "x-ratelimit-remaining-requests", "0"));
				return;
			}
			ThreadLocalRandom random = ThreadLocalRandom.current();
			if (random.nextDouble() < this.settings.getTimeoutRate()) {
				// never answer: the balancer's response timeout fires first
				pause(this.settings.getHang().toMillis());
				return;
			}
			pause(this.settings.getLatency().toMillis());
			if (random.nextDouble() < this.settings.getErrorRate()) {
				sendError(exchange, 500, "InternalServerError", "The server had an error while processing your request.",
						Map.of());
				return;
			}
			if (embeddings) {
				embed(exchange, path.group(1), request, window);
				return;
			}
			String reply = reply(request);
			if (request.path("stream").asBoolean(false)) {
				stream(exchange, path.group(1), reply, window);
			}
			else {
				answer(exchange, path.group(1), request, reply, window);
			}
		}
	}

	/** One embedding per input, a vector derived from its text, so equal texts embed alike. */
	private void embed(HttpExchange exchange, String deployment, JsonNode request, Window window) throws IOException {
		JsonNode input = request.path("input");
		List<String> texts = new ArrayList<>();
		if (input.isArray()) {
			input.forEach((item) -> texts.add(item.isTextual() ? item.asText() : item.toString()));
		}
		else {
			texts.add(input.asText());
		}
		List<Map<String, Object>> data = new ArrayList<>();
		int tokens = 0;
		for (int i = 0; i < texts.size(); i++) {
			java.util.Random seeded = new java.util.Random(texts.get(i).hashCode());
			List<Float> vector = new ArrayList<>();
			for (int d = 0; d < DIMENSIONS; d++) {
				vector.add(seeded.nextFloat() * 2 - 1);
			}
			data.add(Map.of("object", "embedding", "index", i, "embedding", vector));
			tokens += Math.max(1, texts.get(i).length() / 4);
		}
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("object", "list");
		body.put("data", data);
		body.put("model", deployment);
		body.put("usage", Map.of("prompt_tokens", tokens, "total_tokens", tokens));
		byte[] bytes = this.json.writeValueAsBytes(body);
		exchange.getResponseHeaders().set("Content-Type", "application/json");
		rateLimitHeaders(exchange, window);
		exchange.sendResponseHeaders(200, bytes.length);
		exchange.getResponseBody().write(bytes);
	}

	private String reply(JsonNode request) {
		String question = "";
		for (JsonNode message : request.path("messages")) {
			if ("user".equals(message.path("role").asText())) {
				JsonNode content = message.path("content");
				question = content.isTextual() ? content.asText() : content.path(0).path("text").asText("");
			}
		}
		String shortened = (question.length() > 60) ? question.substring(0, 60) + "…" : question;
		return "Hello from " + this.name + "! You asked: \"" + shortened + "\". This answer was served by the "
				+ this.name + " instance of the simulator.";
	}

	private void answer(HttpExchange exchange, String deployment, JsonNode request, String reply, Window window)
			throws IOException {
		Map<String, Object> body = envelope("chat.completion", deployment);
		Map<String, Object> choice = new LinkedHashMap<>();
		choice.put("index", 0);
		choice.put("message", Map.of("role", "assistant", "content", reply));
		choice.put("finish_reason", "stop");
		choice.put("logprobs", null);
		body.put("choices", List.of(choice));
		int prompt = request.path("messages").toString().length() / 4;
		int completion = reply.length() / 4;
		body.put("usage", Map.of("prompt_tokens", prompt, "completion_tokens", completion, "total_tokens",
				prompt + completion));
		byte[] bytes = this.json.writeValueAsBytes(body);
		exchange.getResponseHeaders().set("Content-Type", "application/json");
		rateLimitHeaders(exchange, window);
		exchange.sendResponseHeaders(200, bytes.length);
		exchange.getResponseBody().write(bytes);
	}

	private void stream(HttpExchange exchange, String deployment, String reply, Window window) throws IOException {
		exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
		exchange.getResponseHeaders().set("Cache-Control", "no-cache");
		rateLimitHeaders(exchange, window);
		exchange.sendResponseHeaders(200, 0);
		OutputStream out = exchange.getResponseBody();
		String id = "chatcmpl-" + UUID.randomUUID();
		List<String> pieces = new ArrayList<>();
		for (String word : reply.split(" ")) {
			pieces.add(pieces.isEmpty() ? word : " " + word);
		}
		long gap = Math.max(1, this.settings.getLatency().toMillis() / 8);
		for (int i = 0; i < pieces.size(); i++) {
			Map<String, Object> delta = new LinkedHashMap<>();
			if (i == 0) {
				delta.put("role", "assistant");
			}
			delta.put("content", pieces.get(i));
			writeChunk(out, id, deployment, delta, null);
			pause(gap);
		}
		writeChunk(out, id, deployment, Map.of(), "stop");
		out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

	private void writeChunk(OutputStream out, String id, String deployment, Map<String, Object> delta,
			String finishReason) throws IOException {
		Map<String, Object> chunk = envelope("chat.completion.chunk", deployment);
		chunk.put("id", id);
		Map<String, Object> choice = new LinkedHashMap<>();
		choice.put("index", 0);
		choice.put("delta", delta);
		choice.put("finish_reason", finishReason);
		choice.put("logprobs", null);
		chunk.put("choices", List.of(choice));
		out.write(("data: " + this.json.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

	private Map<String, Object> envelope(String object, String deployment) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("id", "chatcmpl-" + UUID.randomUUID());
		body.put("object", object);
		body.put("created", System.currentTimeMillis() / 1000);
		body.put("model", deployment);
		body.put("system_fingerprint", "fp_simulator");
		return body;
	}

	private void rateLimitHeaders(HttpExchange exchange, Window window) {
		exchange.getResponseHeaders().set("x-ratelimit-limit-requests", String.valueOf(window.limit));
		exchange.getResponseHeaders().set("x-ratelimit-remaining-requests", String.valueOf(window.remaining()));
		exchange.getResponseHeaders().set("x-simulator-instance", this.name);
	}

	private void sendError(HttpExchange exchange, int status, String code, String message, Map<String, String> headers)
			throws IOException {
		byte[] bytes = this.json.writeValueAsBytes(Map.of("error", Map.of("code", code, "message", message)));
		exchange.getResponseHeaders().set("Content-Type", "application/json");
		headers.forEach(exchange.getResponseHeaders()::set);
		exchange.sendResponseHeaders(status, bytes.length);
		exchange.getResponseBody().write(bytes);
	}

	private static byte[] readBody(InputStream in) throws IOException {
		return in.readAllBytes();
	}

	/** The simulated backend's own thinking time; this is the simulation, not synchronisation. */
	private static void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** A requests-per-minute budget over a sliding minute. */
	private static final class Window {

		private final int limit;

		/** Acceptance times within the last minute, oldest first. */
		private final Deque<Long> accepted = new ArrayDeque<>();

		Window(int limit) {
			this.limit = limit;
		}

		/** Returns 0 when the request fits the budget, otherwise how long until a slot frees up. */
		synchronized long admit() {
			long now = System.currentTimeMillis();
			while (!this.accepted.isEmpty() && this.accepted.peekFirst() <= now - MINUTE) {
				this.accepted.removeFirst();
			}
			if (this.accepted.size() >= this.limit) {
				return Math.max(1, this.accepted.peekFirst() + MINUTE - now);
			}
			this.accepted.addLast(now);
			return 0;
		}

		synchronized int remaining() {
			return Math.max(0, this.limit - this.accepted.size());
		}

	}

}
