package io.github.openailb.benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BiFunction;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * A loopback backend that answers like Azure OpenAI, as fast as Reactor Netty can. Stubs run on
 * event loops of their own, as a separate server process would, so that the client under test
 * does not share its threads with them.
 */
final class Stub implements AutoCloseable {

	/** The path every benchmark calls, as an Azure OpenAI client would. */
	static final String PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	/** A typical small chat request. */
	static final byte[] REQUEST = """
			{"messages":[{"role":"system","content":"You are a helpful assistant."},\
			{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":50,"temperature":0.7}"""
		.getBytes(StandardCharsets.UTF_8);

	/** A typical small chat completion. */
	static final byte[] COMPLETION = """
			{"id":"chatcmpl-bench","object":"chat.completion","created":1732690000,"model":"gpt-4o-2024-08-06",\
			"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",\
			"content":"Hello! I hope you are having a wonderful day."},"logprobs":null,\
			"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},\
			"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},\
			"violence":{"filtered":false,"severity":"safe"}}}],\
			"usage":{"completion_tokens":12,"prompt_tokens":25,"total_tokens":37},\
			"system_fingerprint":"fp_bench"}"""
		.getBytes(StandardCharsets.UTF_8);

	static final byte[] THROTTLED = """
			{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI \
			API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier."}}"""
		.getBytes(StandardCharsets.UTF_8);

	private static final LoopResources LOOPS = LoopResources.create("stub", 2, true);

	private final DisposableServer server;

	private Stub(BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handler) {
		this.server = HttpServer.create().host("127.0.0.1").port(0).runOn(LOOPS).handle(handler).bindNow();
	}

	/**
	 * Start a stub with its own behaviour.
	 * @param handler answers one request; the request body has been read already
	 * @return the running stub
	 */
	static Stub start(BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handler) {
		return new Stub((request, response) -> request.receive().then(Mono.defer(() -> Mono.from(handler.apply(request, response)))));
	}

	/** A stub answering every call with {@link #COMPLETION} at once. */
	static Stub ok() {
		return start((request, response) -> completion(response));
	}

	/** A stub answering every call with {@link #COMPLETION} after a delay. */
	static Stub delayed(Duration delay) {
		return start((request, response) -> Mono.delay(delay).then(Mono.defer(() -> Mono.from(completion(response)))));
	}

	/** A stub answering every call with 429 and the given retry hint. */
	static Stub throttled(long retryAfterMillis) {
		return start((request, response) -> throttled(response, retryAfterMillis, true));
	}

	static Publisher<Void> completion(HttpServerResponse response) {
		return response.status(HttpResponseStatus.OK)
			.header("content-type", "application/json")
			.header("content-length", Integer.toString(COMPLETION.length))
			.send(Mono.just(Unpooled.wrappedBuffer(COMPLETION)));
	}

	/**
	 * Answer 429 like Azure does.
	 * @param response the response
	 * @param retryAfterMillis the cool-down asked for
	 * @param withMillis whether to send {@code retry-after-ms} next to {@code Retry-After}
	 * @return completion of the answer
	 */
	static Publisher<Void> throttled(HttpServerResponse response, long retryAfterMillis, boolean withMillis) {
		response.status(HttpResponseStatus.TOO_MANY_REQUESTS)
			.header("content-type", "application/json")
			.header("content-length", Integer.toString(THROTTLED.length))
			.header("retry-after", Long.toString(Math.max(1, (retryAfterMillis + 999) / 1000)));
		if (withMillis) {
			response.header("retry-after-ms", Long.toString(retryAfterMillis));
		}
		return response.send(Mono.just(Unpooled.wrappedBuffer(THROTTLED)));
	}

	/**
	 * Stream server-sent events like a streamed chat completion.
	 * @param response the response
	 * @param events how many chunks
	 * @return completion of the answer
	 */
	static Publisher<Void> events(HttpServerResponse response, int events) {
		return response.status(HttpResponseStatus.OK)
			.header("content-type", "text/event-stream")
			.send(Flux.range(0, events + 1).map((index) -> event(index, events)));
	}

	private static ByteBuf event(int index, int events) {
		String data = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
				+ "\"delta\":{\"content\":\"token" + index + " \"},\"finish_reason\":null}]}\n\n";
		return Unpooled.wrappedBuffer(((index < events) ? data : "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * Return the stub's base URL.
	 * @return scheme, host and port
	 */
	String url() {
		return "http://127.0.0.1:" + this.server.port();
	}

	@Override
	public void close() {
		this.server.disposeNow();
	}

}
