#!/bin/sh
# Makes the bundled clips (run by `go generate ./media/clips`). Each is 2 s and loops cleanly:
# a keyframe every second, so the loop starts on one.
set -e
cd "$(dirname "$0")"
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=15 -t 2 \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 15 -keyint_min 15 -sc_threshold 0 -bf 0 \
  -preset veryfast -b:v 300k -maxrate 300k -bufsize 300k -x264-params repeat-headers=1:slices=1 \
  -f h264 h264.264
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=15 -t 2 \
  -c:v libvpx -g 15 -keyint_min 15 -b:v 300k -deadline realtime -cpu-used 8 -f ivf vp8.ivf
ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000 -t 2 -ac 2 \
  -c:a libopus -b:a 32k -frame_duration 20 -page_duration 20000 -f ogg opus.ogg
