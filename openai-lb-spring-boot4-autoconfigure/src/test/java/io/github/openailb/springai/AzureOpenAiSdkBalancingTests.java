package io.github.openailb.springai;

import java.time.Duration;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.openai.errors.RateLimitException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.context.ConfigurableApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Spring AI 2's {@code OpenAiChatModel} and {@code OpenAiEmbeddingModel} in the SDK's Azure mode (Microsoft Foundry: deployment
 * paths, {@code api-key} header) balanced across loopback backends speaking the Azure shape. The
 * application sets only {@code openai.lb.backends[*]} and the deployment name, as a fresh
 * application would, and uses the {@code ChatClient.Builder} Spring AI gives it.
 */
class AzureOpenAiSdkBalancingTests {

	private final ChatBackends backends = new ChatBackends();

	private WireMockServer a;

	private WireMockServer b;

	private ChatClient chat;

	private EmbeddingModel embeddings;

	@BeforeEach
	void start() {
		this.a = this.backends.start();
		this.b = this.backends.start();
		ConfigurableApplicationContext context = this.backends.run("--openai.lb.backends[0].name=eastus",
				"--openai.lb.backends[0].url=" + this.a.baseUrl(), "--openai.lb.backends[0].api-key=key-a",
				"--openai.lb.backends[1].name=sweden", "--openai.lb.backends[1].url=" + this.b.baseUrl(),
				"--openai.lb.backends[1].api-key=key-b", "--openai.lb.backends[1].priority=2",
				"--openai.lb.backends[1].deployment=gpt4o-sweden",
				"--spring.ai.openai.microsoft-deployment-name=gpt-4o",
				"--spring.ai.openai.embedding.model=embeddings");
		this.chat = context.getBean(ChatClient.Builder.class).build();
		this.embeddings = context.getBean(EmbeddingModel.class);
	}

	@AfterEach
	void close() {
		this.backends.close();
	}

	@Test
	void callUsesTheDeploymentPathAndEachBackendsApiKey() {
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		assertThat(this.chat.prompt("hi").call().content()).isEqualTo("from-a");
		this.a.verify(postRequestedFor(urlPathEqualTo("/openai/deployments/gpt-4o/chat/completions"))
			.withHeader("api-key", equalTo("key-a"))
			.withHeader("Authorization", absent()));
	}

	@Test
	void callFailsOverOn429ToTheNextTierWithItsDeploymentName() {
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(this.chat.prompt("hi").call().content()).isEqualTo("from-b");
		this.b.verify(postRequestedFor(urlPathEqualTo("/openai/deployments/gpt4o-sweden/chat/completions"))
			.withHeader("api-key", equalTo("key-b")));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
	}

	@Test
	void streamFailsOverBeforeTheFirstEvent() {
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200)
			.withHeader("Content-Type", "text/event-stream")
			.withBody(ChatBackends.stream("Hel", "lo"))));
		List<String> parts = this.chat.prompt("hi").stream().content().collectList().block(Duration.ofSeconds(20));
		assertThat(String.join("", parts)).isEqualTo("Hello");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void embeddingsUseTheirDeploymentPathAndFailOver() {
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.embedding(0.5f))));
		assertThat(this.embeddings.embed("hi")).containsExactly(0.5f);
		this.a.verify(postRequestedFor(urlPathEqualTo("/openai/deployments/embeddings/embeddings"))
			.withHeader("api-key", equalTo("key-a")));
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.embedding(0.25f))));
		assertThat(this.embeddings.embed("hi")).containsExactly(0.25f);
		// a backend's deployment replaces the one of every deployment path sent to it
		this.b.verify(postRequestedFor(urlPathEqualTo("/openai/deployments/gpt4o-sweden/embeddings"))
			.withHeader("api-key", equalTo("key-b")));
	}

	@Test
	void allThrottledSurfacesAs429WithRetryAfter() {
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("retry-after-ms", "4000")));
		RateLimitException ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchThrowableOfType(RateLimitException.class, () -> this.chat.prompt("hi").call().content()));
		assertThat(ex).isNotNull();
		assertThat(Long.parseLong(ex.headers().values("Retry-After").get(0))).isBetween(1L, 4L);
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

}
