package io.github.openailb.springai;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.openai.errors.InternalServerException;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.RateLimitException;
import io.github.openailb.actuate.OpenAiLbMetrics;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.testsupport.Awaits;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.StringUtils;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Spring AI 2's {@code OpenAiChatModel} and {@code OpenAiEmbeddingModel} (the OpenAI Java SDK over
 * OkHttp) balanced across loopback backends speaking the OpenAI shape ({@code /v1} paths, bearer
 * keys), in a whole application with every auto-configuration.
 */
@ExtendWith(OutputCaptureExtension.class)
class OpenAiSdkBalancingTests {

	private static final String CHAT_PATH = "/v1/chat/completions";

	private final ChatBackends backends = new ChatBackends();

	private WireMockServer a;

	private WireMockServer b;

	@AfterEach
	void close() {
		this.backends.close();
	}

	/** Backends as the SDK's base URL names them: with {@code /v1}. */
	private ConfigurableApplicationContext start(String... extra) {
		this.a = this.backends.start();
		this.b = this.backends.start();
		List<String> args = new ArrayList<>(List.of("--openai.lb.backends[0].name=a",
				"--openai.lb.backends[0].url=" + this.a.baseUrl() + "/v1", "--openai.lb.backends[0].api-key=key-a",
				"--openai.lb.backends[0].key-style=bearer", "--openai.lb.backends[1].name=b",
				"--openai.lb.backends[1].url=" + this.b.baseUrl() + "/v1", "--openai.lb.backends[1].api-key=key-b",
				"--openai.lb.backends[1].key-style=bearer", "--openai.lb.backends[1].priority=2",
				"--spring.ai.openai.chat.model=gpt-4o"));
		args.addAll(List.of(extra));
		return this.backends.run(args.toArray(String[]::new));
	}

	private ChatClient chat(String... extra) {
		return ChatClient.create(start(extra).getBean(OpenAiChatModel.class));
	}

	@Test
	void callGoesToTheHighestPriorityWithItsOwnKey() {
		ChatClient chat = chat("--spring.ai.openai.api-key=user-key");
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-a");
		this.a.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization", equalTo("Bearer key-a"))
			.withRequestBody(matchingJsonPath("$.model", equalTo("gpt-4o"))));
		assertThat(this.a.getAllServeEvents()).allSatisfy(
				(event) -> assertThat(event.getRequest().getHeaders().all().toString()).doesNotContain("user-key"));
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void callFailsOverOn429WithinOneCallAndRewritesTheModel() {
		ChatClient chat = chat("--openai.lb.backends[1].deployment=model-b");
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-b");
		this.b.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization", equalTo("Bearer key-b"))
			.withRequestBody(matchingJsonPath("$.model", equalTo("model-b"))));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
	}

	@Test
	void streamFailsOverBeforeTheFirstEvent() {
		ChatClient chat = chat();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200)
			.withHeader("Content-Type", "text/event-stream")
			.withBody(ChatBackends.stream("Hel", "lo"))));
		List<String> parts = chat.prompt("hi").stream().content().collectList().block(Duration.ofSeconds(20));
		assertThat(String.join("", parts)).isEqualTo("Hello");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void allThrottledSurfacesAsTheSdks429WithRetryAfterAtOnceCallingEachBackendOnce() {
		ChatClient chat = chat();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
		RateLimitException called = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchThrowableOfType(RateLimitException.class, () -> chat.prompt("hi").call().content()));
		assertThat(called).isNotNull();
		assertThat(called.statusCode()).isEqualTo(429);
		assertThat(Long.parseLong(called.headers().values("Retry-After").get(0))).isBetween(1L, 20L);
		// a stream's error is the async client's CompletionException; the 429 is its cause
		Throwable streamed = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> catchThrowable(
				() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10))));
		assertThat(streamed).hasRootCauseInstanceOf(RateLimitException.class);
		assertThat(((RateLimitException) rootCause(streamed)).headers().values("Retry-After")).isNotEmpty();
		// the SDK retries 429s by default: the balancer's 429 must reach the caller instead
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void everyBreakerOpenSurfacesAsTheSdks503NotAs429() {
		ChatClient chat = chat();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		// the default breakers open at 50% failures over at least 10 calls
		for (int i = 0; i < 10; i++) {
			assertThat(catchThrowableOfType(InternalServerException.class, () -> chat.prompt("hi").call().content())
				.statusCode()).isEqualTo(500);
		}
		InternalServerException unavailable = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchThrowableOfType(InternalServerException.class, () -> chat.prompt("hi").call().content()));
		assertThat(unavailable.statusCode()).isEqualTo(503);
		assertThat(unavailable.headers().values("x-openai-lb")).containsExactly("unavailable");
		assertThat(Long.parseLong(unavailable.headers().values("Retry-After").get(0))).isBetween(1L, 30L);
		assertThat(unavailable.getMessage()).contains("circuit breakers are open");
		assertThat(this.a.getAllServeEvents()).hasSize(10);
		assertThat(this.b.getAllServeEvents()).hasSize(10);
	}

	@Test
	void theSdkDoesNotRetryWhatTheBalancerAlreadyFailedOver() {
		ChatClient chat = chat();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> assertThat(catchThrowableOfType(RuntimeException.class, () -> chat.prompt("hi").call().content()))
					.isNotNull());
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void whenTheSdkGivesUpTheBalancedRequestIsCancelled() {
		ConfigurableApplicationContext context = start("--openai.lb.response-timeout=30s");
		ChatClient chat = ChatClient.create(context.getBean(OpenAiChatModel.class));
		this.a.stubFor(post(anyUrl())
			.willReturn(okJson(ChatBackends.completion("too late")).withFixedDelay(20_000)));
		MeterRegistry meters = context.getBean(MeterRegistry.class);
		assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> assertThat(catchThrowable(() -> chat.prompt("hi")
					.options(OpenAiChatOptions.builder().timeout(Duration.ofSeconds(1)))
					.call()
					.content())).isNotNull());
		// the caller left after 1 s: the attempt is cancelled, not left running for 30 s
		Awaits.until(Duration.ofSeconds(5),
				() -> meters.find(OpenAiLbMetrics.REQUESTS).tag("ending", "CANCELLED").counter() != null
						&& meters.find(OpenAiLbMetrics.REQUESTS).tag("ending", "CANCELLED").counter().count() == 1,
				"the balanced request ends as cancelled");
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void whenNoBackendAnswersTheSdksIoErrorNamesEachBackend() {
		ChatClient chat = chat();
		// nothing listens any more: every attempt is refused
		this.a.stop();
		this.b.stop();
		Throwable ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchThrowable(() -> chat.prompt("hi").call().content()));
		assertThat(ex).isInstanceOf(OpenAIIoException.class).hasCauseInstanceOf(NoBackendAnsweredException.class);
		assertThat(ex.getCause().getMessage()).contains("a: ").contains("b: ");
	}

	@Test
	void aBaseUrlOfTheUsersOwnIsNotBalancedAndSaidSoOnce(CapturedOutput output) {
		WireMockServer own = this.backends.start();
		own.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-own"))));
		ChatClient chat = chat("--spring.ai.openai.base-url=" + own.baseUrl() + "/v1",
				"--spring.ai.openai.api-key=own-key");
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-own");
		assertThat(StringUtils.countOccurrencesOf(output.getAll(),
				"configured by spring.ai.openai.base-url are not balanced")).isEqualTo(1);
		own.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization", equalTo("Bearer own-key")));
		assertThat(this.a.getAllServeEvents()).isEmpty();
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void embeddingsAreBalanced() {
		ConfigurableApplicationContext context = start("--spring.ai.openai.embedding.model=text-embedding-3-small");
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.embedding(0.25f, 0.5f))));
		float[] vector = context.getBean(EmbeddingModel.class).embed("hi");
		assertThat(vector).containsExactly(0.25f, 0.5f);
		this.b.verify(postRequestedFor(urlPathEqualTo("/v1/embeddings")).withHeader("Authorization",
				equalTo("Bearer key-b")));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
	}

	private static Throwable rootCause(Throwable ex) {
		Throwable cause = ex;
		while (cause.getCause() != null) {
			cause = cause.getCause();
		}
		return cause;
	}

	@Test
	void aThrottlingStormCostsNoSpringAiLogLinePerStream(CapturedOutput output) {
		ChatClient chat = chat();
		throttleBoth();
		streamThrottled(chat, 3);
		assertThat(output.getAll()).doesNotContain("Aggregation Error");
	}

	@Test
	void aLevelTheUserSetForSpringAiBringsItsLinesBack(CapturedOutput output) {
		ChatClient chat = chat("--logging.level.org.springframework.ai=INFO");
		throttleBoth();
		streamThrottled(chat, 1);
		assertThat(output.getAll()).contains("o.s.ai.chat.model.MessageAggregator").contains("Aggregation Error");
	}

	private void throttleBoth() {
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
	}

	/** Each caller still gets the 429: the quieted line only repeated it. */
	private static void streamThrottled(ChatClient chat, int times) {
		for (int i = 0; i < times; i++) {
			Throwable streamed = catchThrowable(() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10)));
			assertThat(streamed).hasRootCauseInstanceOf(RateLimitException.class);
		}
	}

}
