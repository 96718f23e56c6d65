//! A tiny cookie-keeping HTTP client that does not follow redirects (tests assert where they
//! point), like one browser profile.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// An HTTP client holding one session cookie, like one browser profile.
pub struct Client {
    pub http: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
}

impl Client {
    /// A client with no session, for the server at `base` (`http://host:port`).
    pub fn new(base: String) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base,
            cookie: None,
        }
    }

    fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap().to_owned();
            if value.contains("Max-Age=0") || pair.ends_with('=') {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let request = self.with_cookie(self.http.get(format!("{}{path}", self.base)));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.with_cookie(self.http.post(format!("{}{path}", self.base)).form(form));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    /// A POST as a browser on another site would send it.
    pub async fn post_form_from(
        &mut self,
        origin: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let request = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)).form(form))
            .header("origin", origin);
        request.send().await.unwrap()
    }

    /// The body of a page that must load with 200, without the `<!>` hydration markers Leptos
    /// puts between adjacent text nodes (so "Welcome, bob" reads as it shows).
    pub async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap().replace("<!>", "")
    }
}

/// Where a redirect points (panics if the response is not a 303).
pub fn location(response: &reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "expected a redirect from {}",
        response.url()
    );
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}
