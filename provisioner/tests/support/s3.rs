//! S3 checks with the AWS SDK for Rust, independent of the provisioner's own verification.

/// PUT through node i, GET through node i+1 and i+2, with the AWS SDK for Rust; over https
/// trusting only `ca_pem` when given.
pub fn sdk_round_trips(
    endpoints: &[String],
    user: &str,
    password: &str,
    bucket: &str,
    ca_pem: Option<&str>,
) {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let http = || match ca_pem {
        Some(pem) => aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(
                TlsContext::builder()
                    .with_trust_store(TrustStore::empty().with_pem_certificate(pem.as_bytes()))
                    .build()
                    .expect("the cluster CA makes a TLS context"),
            )
            .build_https(),
        None => aws_smithy_http_client::Builder::new().build_http(),
    };
    let client = |ep: &str| {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(ep)
            .force_path_style(true)
            .credentials_provider(Credentials::new(user, password, None, None, "test"))
            .http_client(http())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clients: Vec<_> = endpoints.iter().map(|e| client(e)).collect();
        clients[0]
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("CreateBucket");
        let n = clients.len();
        for i in 0..n {
            let body: Vec<u8> = (0..(3 << 20) / 2).map(|j| (j * 7 + i) as u8).collect();
            let key = format!("sdk/{i}");
            clients[i]
                .put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.clone().into())
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutObject via {}: {e:?}", endpoints[i]));
            for j in [(i + 1) % n, (i + 2) % n] {
                let got = clients[j]
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GetObject via {}: {e:?}", endpoints[j]));
                let bytes = got.body.collect().await.unwrap().into_bytes();
                assert!(
                    bytes.as_ref() == body.as_slice(),
                    "{key} via {}",
                    endpoints[j]
                );
            }
        }
    });
}
