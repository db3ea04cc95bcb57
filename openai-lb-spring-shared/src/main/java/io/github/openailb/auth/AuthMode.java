package io.github.openailb.auth;

/**
 * How one backend is authenticated.
 */
public enum AuthMode {

	/**
	 * The backend's API key when one is set; otherwise a Microsoft Entra ID token when the
	 * backend is an Azure host ({@code *.azure.com}, {@code *.azure.us}, {@code *.azure.cn}) and
	 * azure-identity is on the classpath; otherwise the caller's own credential.
	 */
	AUTO,

	/** The backend's API key, sent as its key style says; the key is required. */
	API_KEY,

	/** A Microsoft Entra ID bearer token from azure-identity; no API key may be set. */
	ENTRA,

	/** Nothing added: the caller's own {@code api-key} / {@code Authorization} headers pass through. */
	NONE

}
