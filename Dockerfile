# albsim from Debian 12 packages: build with the project's own setup script, then copy the one
# binary into a slim image with only its runtime libraries.
FROM debian:12 AS build
WORKDIR /src
COPY . .
# setup.sh installs the Debian 12 build dependencies (as root here) and builds into build/.
RUN scripts/setup.sh build && strip build/albsim

FROM debian:12-slim
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       libyaml-cpp0.7 libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/albsim /usr/local/bin/albsim
COPY configs /etc/albsim
EXPOSE 8080 8443
ENTRYPOINT []
# The built-in default listens on 127.0.0.1 only: `docker run --network host albsim:local`
# reaches it; docker-compose.yml runs the published setup.
CMD ["albsim", "serve", "--config", "/etc/albsim/proxy-default.yaml"]
