package io.github.openailb.autoconfigure;

import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.identity.DefaultAzureCredentialBuilder;
import io.github.openailb.auth.AuthHeader;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.InvalidConfigurationException;
import io.github.openailb.core.KeyStyle;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which credential each backend gets, from its properties and what is on the classpath.
 */
class BackendCredentialsAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class))
		.withPropertyValues("openai.lb.backends[0].name=keyed", "openai.lb.backends[0].url=https://k.openai.azure.com",
				"openai.lb.backends[0].api-key=key-A-s3cret", "openai.lb.backends[1].name=azure",
				"openai.lb.backends[1].url=https://a.openai.azure.com", "openai.lb.backends[2].name=local",
				"openai.lb.backends[2].url=http://localhost:11434/v1");

	private final List<String> scopes = new CopyOnWriteArrayList<>();

	@Test
	void keyBackendsSendTheirKeyAndKeylessAzureBackendsAnEntraIdToken() {
		this.runner.withBean(TokenCredential.class, this::tokenCredential).run((context) -> {
			assertThat(header(context, "keyed")).isEqualTo(new AuthHeader("api-key", "key-A-s3cret"));
			assertThat(header(context, "azure")).isEqualTo(new AuthHeader("Authorization", "Bearer entra-T0ken"));
			assertThat(this.scopes).containsExactly("https://cognitiveservices.azure.com/.default");
		});
	}

	@Test
	void keylessBackendThatIsNotAnAzureHostPassesTheCallersCredentialThrough() {
		this.runner.withBean(TokenCredential.class, this::tokenCredential)
			.run((context) -> assertThat(header(context, "local")).isNull());
	}

	@Test
	void entraModeAndScopeAreExplicitWhenAsked() {
		this.runner.withBean(TokenCredential.class, this::tokenCredential)
			.withPropertyValues("openai.lb.backends[2].auth=entra", "openai.lb.auth.scope=api://gateway/.default")
			.run((context) -> {
				assertThat(header(context, "local")).isEqualTo(new AuthHeader("Authorization", "Bearer entra-T0ken"));
				assertThat(this.scopes).containsExactly("api://gateway/.default");
			});
	}

	@Test
	void noneModeKeepsTheCallersCredentialForAnAzureHost() {
		this.runner.withBean(TokenCredential.class, this::tokenCredential)
			.withPropertyValues("openai.lb.backends[1].auth=none")
			.run((context) -> {
				assertThat(header(context, "azure")).isNull();
				assertThat(this.scopes).isEmpty();
			});
	}

	@Test
	void withoutATokenCredentialBeanStartsWithoutCreatingDefaultAzureCredential() {
		// DefaultAzureCredential would be built on the first token request only
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed().hasSingleBean(BackendCredentials.class);
			assertThat(header(context, "keyed")).isEqualTo(new AuthHeader("api-key", "key-A-s3cret"));
		});
	}

	@Test
	void withoutAzureIdentityKeylessBackendsPassTheCallersCredentialThrough() {
		this.runner.withClassLoader(new FilteredClassLoader(DefaultAzureCredentialBuilder.class)).run((context) -> {
			assertThat(header(context, "keyed")).isEqualTo(new AuthHeader("api-key", "key-A-s3cret"));
			assertThat(header(context, "azure")).isNull();
		});
	}

	@Test
	void withoutAzureIdentityEntraModeFailsAtStartUp() {
		this.runner.withClassLoader(new FilteredClassLoader(DefaultAzureCredentialBuilder.class))
			.withPropertyValues("openai.lb.backends[1].auth=entra")
			.run((context) -> assertFailure(context, "openai.lb.backends[1].auth", "azure-identity"));
	}

	@Test
	void apiKeyModeWithoutAKeyFailsAtStartUp() {
		this.runner.withPropertyValues("openai.lb.backends[1].auth=api-key")
			.run((context) -> assertFailure(context, "openai.lb.backends[1].api-key", "is missing"));
	}

	@Test
	void keyWithEntraOrNoneModeFailsAtStartUpWithoutShowingTheKey() {
		this.runner.withPropertyValues("openai.lb.backends[0].auth=entra")
			.run((context) -> assertFailure(context, "openai.lb.backends[0].api-key", "is set but auth is entra"));
		this.runner.withPropertyValues("openai.lb.backends[0].auth=none")
			.run((context) -> assertFailure(context, "openai.lb.backends[0].api-key", "is set but auth is none"));
	}

	@Test
	void managedIdentityClientIdWithoutEntraIdFailsAtStartUp() {
		this.runner.withPropertyValues("openai.lb.backends[0].managed-identity-client-id=0000-1111")
			.run((context) -> assertFailure(context, "openai.lb.backends[0].managed-identity-client-id",
					"only used with Entra ID"));
	}

	@Test
	void blankScopeFailsAtStartUp() {
		this.runner.withPropertyValues("openai.lb.auth.scope= ")
			.run((context) -> assertFailure(context, "openai.lb.auth.scope", "blank"));
	}

	@Test
	void backsOffWhenTheApplicationDefinesItsOwnCredentials() {
		BackendCredentials own = (backend) -> Mono.just(new AuthHeader("api-key", "own"));
		this.runner.withBean(BackendCredentials.class, () -> own)
			.run((context) -> assertThat(context).getBean(BackendCredentials.class).isSameAs(own));
	}

	private static void assertFailure(AssertableApplicationContext context, String property, String problem) {
		assertThat(context).hasFailed();
		Throwable failure = context.getStartupFailure();
		while (!(failure instanceof InvalidConfigurationException) && failure.getCause() != null) {
			failure = failure.getCause();
		}
		assertThat(failure).isInstanceOf(InvalidConfigurationException.class).hasMessageContaining(problem);
		assertThat(((InvalidConfigurationException) failure).getProperty()).isEqualTo(property);
		assertThat(failure.getMessage()).doesNotContain("key-A-s3cret");
		assertThat(((InvalidConfigurationException) failure).getAction()).doesNotContain("key-A-s3cret");
	}

	private TokenCredential tokenCredential() {
		return (request) -> {
			this.scopes.addAll(request.getScopes());
			return Mono.just(new AccessToken("entra-T0ken", OffsetDateTime.now().plusHours(1)));
		};
	}

	private static AuthHeader header(AssertableApplicationContext context, String name) {
		BackendConfig backend = new BackendConfig(name, URI.create("https://" + name + ".openai.azure.com"), 1, 1, null,
				KeyStyle.API_KEY, null, true);
		return context.getBean(BackendCredentials.class).headerFor(backend).block(Duration.ofSeconds(10));
	}

}
