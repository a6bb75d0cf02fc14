package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultPullLinger is how long a replica keeps pulling a stream nobody watches.
const DefaultPullLinger = 5 * time.Second

// Replica is a hub that may pull this hub's streams (this hub is its origin): view only.
type Replica struct {
	// Name names the replica hub in logs ("hub-b").
	Name string `yaml:"name" json:"name"`
	// TokenFile holds the secret the replica presents (as "Bearer replica.{secret}");
	// made on first start when missing, to be copied to the replica. Relative to the hub file.
	TokenFile string `yaml:"token_file" json:"token_file"`
}

// Origin is a hub that carries the media of some rooms; this hub (a replica) pulls their
// streams from it over WHEP for its own viewers.
type Origin struct {
	// URL is the origin hub's HTTP address: http://host[:port] or https://…
	URL string `yaml:"url" json:"url"`
	// Rooms are the rooms whose media the origin carries: "site/room", or "site/*".
	Rooms []string `yaml:"rooms" json:"rooms"`
	// TokenFile holds the secret the origin gave this hub (its media.replicas[].token_file).
	TokenFile string `yaml:"token_file" json:"token_file"`
	// CAFile is a CA (PEM) that issued an https origin's certificate, trusted besides the
	// system's roots and this hub's own CA. Relative to the hub file.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
}

// pullProblems adds what is wrong with media.replicas, media.origins and media.pull_linger.
func (m *Media) pullProblems(p *problems) {
	names := map[string]int{}
	for i, r := range m.Replicas {
		key := fmt.Sprintf("media.replicas[%d]", i)
		p.uniqueID(key+".name", "replica", "replica", "media.replicas", r.Name, i, names)
		if strings.TrimSpace(r.TokenFile) == "" {
			p.add(key+".token_file", "required: the file that holds the replica's secret (made on first start when missing)")
		}
	}
	rooms := map[string]int{}
	for i, o := range m.Origins {
		key := fmt.Sprintf("media.origins[%d]", i)
		u, err := url.Parse(o.URL)
		switch {
		case o.URL == "":
			p.add(key+".url", "required: the origin hub's HTTP address, e.g. http://10.1.0.5:8080")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
			p.add(key+".url", "%s: want http://host[:port] or https://host[:port], nothing after the port", quote(o.URL))
		}
		if len(o.Rooms) == 0 {
			p.add(key+".rooms", "required: the rooms whose media that hub carries, \"site/room\" or \"site/*\"")
		}
		for j, r := range o.Rooms {
			rk := fmt.Sprintf("%s.rooms[%d]", key, j)
			site, room, ok := strings.Cut(r, "/")
			if !ok {
				p.add(rk, "%s: want \"site/room\" or \"site/*\"", quote(r))
				continue
			}
			p.id(rk, "site", site)
			if room != "*" {
				p.id(rk, "room", room)
			}
			if prev, dup := rooms[r]; dup {
				p.add(rk, "%s is already carried by media.origins[%d]: a room has one origin", quote(r), prev)
			} else {
				rooms[r] = i
			}
		}
		if strings.TrimSpace(o.TokenFile) == "" {
			p.add(key+".token_file", "required: the file with the secret the origin hub made for this hub (its media.replicas[].token_file)")
		}
	}
	p.between("media.pull_linger", m.PullLinger, 500*time.Millisecond, 10*time.Minute)
}
