# albsim from Debian 12 packages: build with the project's own setup script, install it under a
# prefix (the binary, the scenario catalogue beside it, the example configs), then copy that
# tree into a slim image with only its runtime libraries.
FROM debian:12 AS build
WORKDIR /src
COPY . .
# setup.sh installs the Debian 12 build dependencies (as root here) and builds into build/.
RUN scripts/setup.sh build && cmake --install build --prefix /opt/albsim --strip

FROM debian:12-slim
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       libyaml-cpp0.7 libssl3 libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libsimdjson14 \
    && rm -rf /var/lib/apt/lists/*
# /usr/local/bin/albsim finds its catalogue in /usr/local/share/albsim/scenarios.
COPY --from=build /opt/albsim /usr/local
COPY configs /etc/albsim
EXPOSE 8080 8443
ENTRYPOINT []
# The built-in default listens on 127.0.0.1 only: `docker run --network host albsim:local`
# reaches it; docker-compose.yml runs the published setup. The catalogue and the teaching
# report run inside the image as they are:
#   docker run --rm albsim:local albsim scenarios run all
#   docker run --rm -v "$PWD/report:/report" albsim:local albsim report /report
CMD ["albsim", "serve", "--config", "/etc/albsim/proxy-default.yaml"]
